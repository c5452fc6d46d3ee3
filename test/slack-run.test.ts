import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeSlack } from "./fakes/slack.ts";
import { MINIMAL_YAML, slackRunYaml } from "./helpers/app.ts";
import { type BotProcess, runBot } from "./helpers/bot-process.ts";
import { freePort } from "./helpers/net.ts";

let fake: FakeSlack;
let dir: string;
const bots: BotProcess[] = [];

beforeEach(async () => {
  fake = await new FakeSlack().start();
  dir = mkdtempSync(join(tmpdir(), "binderbot-slack-run-"));
});
afterEach(async () => {
  for (const b of bots.splice(0)) b.kill();
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startBot(yaml: string, env: Record<string, string>): BotProcess {
  const bot = runBot(dir, yaml, env);
  bots.push(bot);
  return bot;
}

const slackYaml = (port: number) => slackRunYaml(MINIMAL_YAML, port, fake.apiUrl);

describe("binderbot run with Slack (a real process against the fake Slack)", () => {
  it("a bad bot token: exits 1 with one clear line, no stack trace, no token", async () => {
    const bot = startBot(slackYaml(0), { SLACK_BOT_TOKEN: "xoxb-not-valid-999", SLACK_APP_TOKEN: fake.appToken });
    expect(await bot.exited).toBe(1);
    const err = bot.stderr();
    const ours = err.split("\n").filter((l) => l.startsWith("binderbot:"));
    expect(ours).toEqual([
      "binderbot: slack could not start: Slack refused the bot token (auth.test: invalid_auth); check adapters.slack.botToken (an xoxb-… token of an installed app)",
    ]);
    expect(err).not.toMatch(/^\s+at /m);
    expect(err).not.toContain("xoxb-not-valid-999");
  });

  it("serves /healthz, /readyz and /metrics, and answers on Slack; SIGTERM stops it cleanly", async () => {
    const port = await freePort();
    const bot = startBot(slackYaml(port), { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.appToken });
    await bot.logged((l) => l.includes('"platform":"slack"') && l.includes("adapter started"));
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, adapters: { slack: { connected: true } } });

    await fake.sendEvent(fake.message("!binder whoami", { user: "UCAROL" }));
    expect((await fake.waitForPost()).text).toContain("UCAROL");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('binderbot_messages_total{platform="slack"} 1');
    expect(metrics).toContain('binderbot_commands_total{platform="slack",command="whoami",outcome="ok"} 1');
    expect(metrics).toContain("binderbot_notification_outbox_size 0");
    expect(metrics).toContain("binderbot_process_cpu_user_seconds_total");

    // Dropped by Slack: the socket-mode client reconnects by itself (after its 5 s step) and answers again.
    const back = fake.nextConnection();
    fake.dropConnections();
    await back;
    await fake.sendEvent(fake.message("!binder whoami", { user: "UDAN" }));
    expect((await fake.waitForPost((p) => p.text.includes("UDAN"))).channel).toBe("C0001");

    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    expect(bot.stderr()).not.toContain(fake.botToken);
  });
});
