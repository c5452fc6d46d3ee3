import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeEvent, FakeHomeserver } from "./fakes/matrix-homeserver.ts";
import { MINIMAL_YAML } from "./helpers/app.ts";
import { type BotProcess, runBot } from "./helpers/bot-process.ts";
import { freePort } from "./helpers/net.ts";

const BOT = "@binderbot:fake.local";
const ALICE = "@alice:fake.local";
let hs: FakeHomeserver;
let dir: string;
const bots: BotProcess[] = [];

beforeEach(async () => {
  hs = new FakeHomeserver();
  await hs.listen();
  dir = mkdtempSync(join(tmpdir(), "binderbot-matrix-run-"));
});
afterEach(async () => {
  for (const b of bots.splice(0)) b.kill();
  await hs.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The real `binderbot run` process, on the sqlite store under a temp dir (kept across restarts). */
function startBot(port: number, env: Record<string, string>) {
  const yaml = `${MINIMAL_YAML.replace("store: memory", "store: sqlite")}
dataDir: ${dir}/data
log: { level: info, format: json }
http: { port: ${port}, host: 127.0.0.1 }
adapters:
  matrix:
    homeserver: ${hs.url}
    userId: "${BOT}"
    accessToken: "\${MATRIX_TOKEN}"
    rooms: ["#ops:fake.local"]
`;
  const bot = runBot(dir, yaml, env);
  bots.push(bot);
  return bot;
}

/** SIGTERM stops the bot cleanly and the process exits 0 at once (no timer left behind keeps it alive). */
async function stopProcess(bot: BotProcess): Promise<void> {
  bot.proc.kill("SIGTERM");
  expect(await bot.exited).toBe(0);
  expect(bot.stderr()).toContain('"why":"SIGTERM"');
}

function replyTo(eventId: string): Promise<FakeEvent> {
  return hs.nextSent(
    (e) =>
      (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]?.event_id ===
      eventId,
  );
}

describe("binderbot run with Matrix (a real process against the fake homeserver)", () => {
  it("a refused token: exits 1 with one clear line, no stack trace, no token", async () => {
    hs.createRoom({ creator: ALICE, alias: "#ops:fake.local" });
    const bot = startBot(0, { MATRIX_TOKEN: "syt_not_valid_123" });
    expect(await bot.exited).toBe(1);
    const err = bot.stderr();
    const ours = err.split("\n").filter((l) => l.startsWith("binderbot:"));
    expect(ours).toEqual([
      `binderbot: matrix could not start: ${hs.url} did not accept the bot's credentials: the access token was refused (M_UNKNOWN_TOKEN): make a new one for the bot account`,
    ]);
    expect(err).not.toMatch(/^\s+at /m);
    expect(err).not.toContain("syt_not_valid_123");
  });

  it("is ready when syncing, answers, and after a process restart on the same store neither replays nor misses", async () => {
    const token = hs.addUser(BOT);
    hs.addUser(ALICE);
    const room = hs.createRoom({ creator: ALICE, alias: "#ops:fake.local" });
    hs.createRoom({ creator: ALICE, members: [] }); // a second room, so "ops" is not a 2-person DM by accident
    hs.join(room, "@carol:fake.local");
    const port = await freePort();
    const bot = startBot(port, { MATRIX_TOKEN: token });
    await bot.logged((l) => l.includes('"platform":"matrix"') && l.includes("adapter started"));
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, adapters: { matrix: { connected: true } } });

    const q1 = hs.say(room, ALICE, "!binder whoami");
    expect((await replyTo(q1)).content.formatted_body).toContain(`matrix:${ALICE}`);
    // matrix-js-sdk 37.5 leaves a ref'd 80–110 s timer behind every /sync (matrix-org/matrix-js-sdk#2472);
    // bin/binderbot.js exits explicitly once `run` has stopped, so SIGTERM must end the process at once.
    await stopProcess(bot);
    expect(bot.stderr()).not.toContain(token);

    const missed = hs.say(room, ALICE, "!binder help");
    const answered = replyTo(missed);
    const again = startBot(port, { MATRIX_TOKEN: token });
    await answered;
    const q3 = hs.say(room, ALICE, "!binder whoami please");
    await replyTo(q3);
    const targets = hs
      .events(room, BOT)
      .filter((e) => e.type === "m.room.message")
      .map((e) => (e.content["m.relates_to"] as { "m.in_reply_to": { event_id: string } })["m.in_reply_to"].event_id);
    expect(targets).toEqual([q1, missed, q3]);
    await stopProcess(again);
  });
});
