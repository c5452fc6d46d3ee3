import type { App } from "../../src/app.ts";
import { createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Message } from "../../src/core/message.ts";
import { renderPlain } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/store.ts";

/** The smallest valid config; tests add what they need as YAML. */
export const MINIMAL_YAML = `
store: memory
charts:
  - name: binderhub
    github: jupyterhub/binderhub
    git: /nonexistent/binderhub.git
    index: http://127.0.0.1:9/index.yaml
deploy:
  github: jupyterhub/mybinder.org-deploy
`;

/** An App on the memory store with a silent logger and a controllable clock. */
export async function testApp(yaml = MINIMAL_YAML, opts: { now?: () => Date; env?: NodeJS.ProcessEnv } = {}): Promise<App> {
  const loaded = parseConfig(yaml, "test.yaml", opts.env ?? {});
  return createApp(loaded, {
    log: silentLogger(),
    store: await openStore("memory", "."),
    ...(opts.now ? { now: opts.now } : {}),
  });
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
