import type { App, AppWaits } from "../../src/app.ts";
import { createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Outlet } from "../../src/core/adapter.ts";
import type { CommandSpec } from "../../src/core/command.ts";
import type { Message } from "../../src/core/message.ts";
import { renderPlain } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";
import type { Services } from "../../src/services.ts";
import { openStore, type Store } from "../../src/store/store.ts";
import { silentLogger } from "./log.ts";

/**
 * A config with the one chart, binderhub, on the memory store. Without options it is the smallest
 * valid config (no git repository, nothing listening on the index URL); `dataDir` puts the mirror
 * there with the fetch cron off (tests fetch on demand), `githubUrl` points the API at a fake GitHub.
 * `extra` is appended as is after `deploy:`, so indented lines add deploy keys.
 */
export function chartBotYaml(
  opts: { dataDir?: string; githubUrl?: string; repoPath?: string; indexUrl?: string; extra?: string } = {},
): string {
  const lines = ["", "store: memory"];
  if (opts.dataDir) lines.push(`dataDir: ${opts.dataDir}`, 'mirrors: { fetchCron: "" }');
  if (opts.githubUrl) lines.push(`github: { apiUrl: ${opts.githubUrl} }`);
  lines.push(
    "charts:",
    "  - name: binderhub",
    "    github: jupyterhub/binderhub",
    `    git: ${opts.repoPath ?? "/nonexistent/binderhub.git"}`,
    `    index: ${opts.indexUrl ?? "http://127.0.0.1:9/index.yaml"}`,
    "deploy:",
    "  github: jupyterhub/mybinder.org-deploy",
  );
  if (opts.extra) lines.push(opts.extra.replace(/\n$/, ""));
  return `${lines.join("\n")}\n`;
}

/** The smallest valid config; tests add what they need as YAML. */
export const MINIMAL_YAML = chartBotYaml();

/** The `adapters:` section for Slack at `apiUrl` (a fake), its tokens from SLACK_BOT_TOKEN and SLACK_APP_TOKEN. */
export function slackAdaptersYaml(apiUrl: string): string {
  return `adapters:
  slack:
    botToken: "\${SLACK_BOT_TOKEN}"
    appToken: "\${SLACK_APP_TOKEN}"
    apiUrl: ${apiUrl}
`;
}

/** A `binderbot run` config on Slack: `base`, then JSON logs at info, the HTTP server on 127.0.0.1:`port`. */
export function slackRunYaml(base: string, port: number, apiUrl: string): string {
  return `${base}
log: { level: info, format: json }
http: { port: ${port}, host: 127.0.0.1 }
${slackAdaptersYaml(apiUrl)}`;
}

/** An App on the memory store with a silent logger and a controllable clock. */
export async function testApp(
  yaml = MINIMAL_YAML,
  opts: {
    now?: () => Date;
    env?: NodeJS.ProcessEnv;
    commands?: readonly CommandSpec<Services>[];
    waits?: AppWaits;
    delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
    /** A store shared with another app (a restart, a second replica); default: a fresh memory store. */
    store?: Store;
  } = {},
): Promise<App> {
  const loaded = parseConfig(yaml, "test.yaml", opts.env ?? {});
  return createApp(loaded, {
    log: silentLogger(),
    // GitHub's retries and rate-limit waits in milliseconds instead of seconds: no test waits on them.
    waits: { githubRetryBaseMs: 1, ...opts.waits },
    store: opts.store ?? (await openStore("memory", ".")),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.commands ? { commands: opts.commands } : {}),
    ...(opts.delay ? { delay: opts.delay } : {}),
  });
}

/** An outlet that keeps what is said later (a follow-up) in `said`. */
export function recordingOutlet(said: Reply[]): Outlet {
  return {
    send: async (room, reply) => {
      said.push(reply);
      return { room, id: String(said.length) };
    },
    update: async (p) => p,
  };
}

let seq = 0;

/** Says `text` in a room as a user, like hubot's DummyAdapter; returns the reply (null = silence). */
export async function say(app: App, text: string, who: Partial<Message> = {}): Promise<Reply | null> {
  return app.bot.handle({
    platform: "test",
    room: "room1",
    userId: "alice",
    text,
    eventId: `e${++seq}`,
    ...who,
  });
}

/** The plain text of a reply, "" for silence. */
export async function sayText(app: App, text: string, who: Partial<Message> = {}): Promise<string> {
  const r = await say(app, text, who);
  return r ? renderPlain(r) : "";
}
