import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, StoreOpenError } from "../src/store/store.ts";
import { FakeSlack } from "./fakes/slack.ts";
import { MINIMAL_YAML, slackRunYaml } from "./helpers/app.ts";
import { type BotProcess, runBot } from "./helpers/bot-process.ts";
import { runCli } from "./helpers/cli.ts";
import { freePort } from "./helpers/net.ts";
import { haveRedis, type RedisServer, startRedis } from "./helpers/redis.ts";

// Store faults are visible and survivable: a store that cannot be opened is one clear line at start;
// Redis going away mid-conversation is logged once, turns /readyz 503 naming the store, does not stop
// the answers, and heals by itself.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "binderbot-store-faults-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sqliteYaml = (dataDir: string) => `${MINIMAL_YAML.replace("store: memory", "store: sqlite")}dataDir: ${dataDir}\n`;

describe("a store that cannot be opened at start", () => {
  it("a damaged sqlite file, a dataDir that is a file, Redis unreachable: one line naming it and what to do", async () => {
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "binderbot.sqlite"), "this is not a database, it is a text file long enough to look like one\n");
    const damaged = await openStore("sqlite", data).catch((e: unknown) => e);
    expect(damaged).toBeInstanceOf(StoreOpenError);
    expect((damaged as Error).message).toBe(
      `cannot use the sqlite store ${join(data, "binderbot.sqlite")}: the file is not a sqlite database or is damaged. Move the file aside (the bot starts with empty state) or restore it from a backup.`,
    );
    const file = join(dir, "afile");
    writeFileSync(file, "x");
    const notDir = await openStore("sqlite", file).catch((e: unknown) => e);
    expect((notDir as Error).message).toMatch(
      new RegExp(`^cannot write the data directory ${file} \\(dataDir\\): .*Point \`dataDir\``),
    );
    const port = await freePort();
    const redis = await openStore(`redis://bot:hunter22@127.0.0.1:${port}`, dir).catch((e: unknown) => e);
    expect(redis).toBeInstanceOf(StoreOpenError);
    expect((redis as Error).message).toMatch(
      new RegExp(
        `^cannot connect to the Redis store redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*Start Redis there, or fix \`store:\``,
      ),
    );
    expect((redis as Error).message).not.toContain("hunter22");
  });

  it("run exits 1 and ask --json exits 2 before answering anything, each with one line and no stack", async () => {
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "binderbot.sqlite"), "garbage garbage garbage garbage garbage garbage garbage\n");
    const cfg = join(dir, "c.yaml");
    writeFileSync(cfg, sqliteYaml(data));
    const ask = await runCli(["ask", "--config", cfg, "--json"], { input: "!binder whoami\n" });
    expect(ask.code).toBe(2);
    expect(ask.stdout).toBe("");
    expect(ask.stderr.trim().split("\n")).toEqual([
      `binderbot: cannot use the sqlite store ${join(data, "binderbot.sqlite")}: the file is not a sqlite database or is damaged. Move the file aside (the bot starts with empty state) or restore it from a backup.`,
    ]);
    const run = await runCli(["run", "--config", cfg], { input: "" });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe.skipIf(!haveRedis())("Redis killed and restarted mid-conversation (a real redis-server, the real bot)", () => {
  let fake: FakeSlack;
  const bots: BotProcess[] = [];
  let redis: RedisServer | undefined;
  beforeEach(async () => {
    fake = await new FakeSlack().start();
  });
  afterEach(async () => {
    for (const b of bots.splice(0)) b.kill();
    await fake.stop();
    await redis?.stop();
  });

  it("keeps answering, says so once, /readyz 503 naming the store while down, and recovers by itself", async () => {
    const redisPort = await freePort();
    redis = await startRedis(redisPort);
    const port = await freePort();
    const yaml = slackRunYaml(
      MINIMAL_YAML.replace("store: memory", `store: "redis://127.0.0.1:${redisPort}"`),
      port,
      fake.apiUrl,
    );
    const bot = runBot(dir, yaml, { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.appToken });
    bots.push(bot);
    await bot.logged((l) => l.includes("adapter started"));
    const readyz = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      return {
        status: r.status,
        body: (await r.json()) as { adapters: Record<string, { connected: boolean; detail?: string }> },
      };
    };
    const until = async (want: number) => {
      for (;;) {
        const r = await readyz();
        if (r.status === want) return r;
        await new Promise((res) => setTimeout(res, 100)); // polling a condition, not waiting a fixed time
      }
    };
    const ask = async (user: string) => {
      const from = fake.posts.length;
      await fake.sendEvent(fake.message("!binder whoami", { user }));
      return (await fake.waitForPost(() => true, from)).text;
    };
    expect(await ask("UONE")).toContain("UONE");
    expect((await readyz()).status).toBe(200);

    await redis.stop();
    expect(await ask("UTWO")).toContain("UTWO"); // answered while Redis is gone (dedupe falls back to memory)
    const down = await until(503);
    expect(down.body.adapters.store).toMatchObject({ connected: false });
    expect(down.body.adapters.store?.detail).toContain(`redis://127.0.0.1:${redisPort}`);
    expect(await ask("UTHREE")).toContain("UTHREE");
    expect(
      bot
        .stderr()
        .split("\n")
        .filter((l) => l.includes("store unreachable")),
    ).toHaveLength(1);

    redis = await startRedis(redisPort);
    const up = await until(200);
    expect(up.body.adapters.store).toMatchObject({ connected: true });
    expect(await ask("UFOUR")).toContain("UFOUR");
    await bot.logged((l) => l.includes("store reachable again"));
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
  }, 90_000);
});
