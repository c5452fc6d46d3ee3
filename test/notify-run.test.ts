import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { type BotProcess, runBot } from "./helpers/bot-process.ts";
import { TestRepo } from "./helpers/git.ts";
import { count, notifyRunYaml, prRepo } from "./helpers/notify.ts";

/** The contract, from outside: `binderbot run --config F` in a terminal subscribed to charts. */
describe("binderbot run announces a newly published chart once (issue #11 contract)", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let github: FakeGitHub;
  let dir: string;
  let t: ReturnType<typeof prRepo>;
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    repo = TestRepo.create();
    t = prRepo(repo);
    index = await startIndexServer({ body: indexYaml({ binderhub: [t.existing] }) });
    github = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "bb-notify-run-"));
  });
  afterEach(() => {
    for (const b of bots.splice(0)) b.kill();
  });
  afterAll(async () => {
    await index.close();
    await github.close();
    rmSync(dir, { recursive: true, force: true });
    repo.remove();
  });

  const yaml = () =>
    notifyRunYaml({
      store: "sqlite",
      dataDir: join(dir, "data"),
      githubUrl: github.url,
      repoPath: repo.path,
      indexUrl: index.url,
      room: "shell:local",
    });

  /** Waits until the index server has answered `n` more polls. */
  const polls = async (n: number) => {
    const target = index.requests + n;
    await vi.waitFor(() => expect(index.requests).toBeGreaterThanOrEqual(target), { timeout: 20_000, interval: 50 });
  };

  it("says nothing for what the index had, one message with the version and #1887 for a new entry, no repeats, not after a restart", async () => {
    const bot = runBot(dir, yaml(), { BINDERBOT_LOG_LEVEL: "info" });
    bots.push(bot);
    await bot.logged((l) => l.includes("recorded the published versions"));
    await polls(2);
    expect(bot.stdout()).toBe("");

    index.setBody(indexYaml({ binderhub: [t.existing, { version: t.published, created: new Date().toISOString() }] }));
    await vi.waitFor(() => expect(bot.stdout()).toContain(t.published), { timeout: 20_000, interval: 50 });
    const said = bot.stdout();
    expect(said).toContain("#1887");
    expect(said).toContain('"Make the builder faster"');
    expect(said).toContain(`version: "${t.published}"`);
    expect(said).not.toContain(t.existing.version);

    await polls(2);
    expect(count(bot.stdout(), `${t.published} is published`)).toBe(1);

    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    const again = runBot(dir, yaml(), { BINDERBOT_LOG_LEVEL: "info" });
    bots.push(again);
    await again.logged((l) => l.includes('"adapter started"'));
    await polls(3);
    expect(again.stdout()).toBe("");
  }, 90_000);
});
