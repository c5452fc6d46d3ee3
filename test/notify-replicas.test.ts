import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { FakeSlack } from "./fakes/slack.ts";
import { type BotProcess, runBot } from "./helpers/bot-process.ts";
import { TestRepo } from "./helpers/git.ts";
import { notifyRunYaml, prRepo } from "./helpers/notify.ts";
import { haveRedis, type RedisServer, startRedis } from "./helpers/redis.ts";
import { skipWhy } from "./helpers/skip.ts";

/**
 * Exactly once across a crash and across replicas: real `binderbot run` processes posting to the
 * fake Slack, on sqlite (the crash) and on one real redis-server (two replicas).
 */
describe("notifications across SIGKILL and replicas", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let github: FakeGitHub;
  let slack: FakeSlack;
  let t: ReturnType<typeof prRepo>;
  const bots: BotProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    repo = TestRepo.create();
    t = prRepo(repo);
    github = await startFakeGitHub();
    slack = await new FakeSlack().start();
  });
  beforeEach(() => {
    from = slack.posts.length;
  });
  afterEach(async () => {
    for (const b of bots.splice(0)) b.kill();
    await index?.close();
  });
  afterAll(async () => {
    await github.close();
    await slack.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    repo.remove();
  });

  const yaml = (store: string, dataDir: string) =>
    notifyRunYaml({
      store,
      dataDir,
      githubUrl: github.url,
      repoPath: repo.path,
      indexUrl: index.url,
      room: "slack:C0OPS",
      top: [
        "log: { level: info, format: json }",
        "adapters:",
        `  slack: { botToken: "${slack.botToken}", appToken: "${slack.appToken}", apiUrl: ${slack.apiUrl} }`,
      ],
      notify: ["  lease: 3s", "  retryDelay: 100ms"],
    });

  const start = (dir: string, y: string): BotProcess => {
    const b = runBot(dir, y, {});
    bots.push(b);
    return b;
  };
  /** Posts of this test only (the fake Slack is shared by the tests of this file). */
  let from = 0;
  const postsOf = (version: string) => slack.posts.slice(from).filter((p) => p.channel === "C0OPS" && p.text.includes(version));
  const polls = async (n: number) => {
    const target = index.requests + n;
    await vi.waitFor(() => expect(index.requests).toBeGreaterThanOrEqual(target), { timeout: 30_000, interval: 50 });
  };
  const publish = (...versions: string[]) =>
    index.setBody(
      indexYaml({ binderhub: [t.existing, ...versions.map((version) => ({ version, created: new Date().toISOString() }))] }),
    );

  it("killed (SIGKILL) after the outbox write, before Slack acknowledged: exactly one message after the restart", async () => {
    index = await startIndexServer({ body: indexYaml({ binderhub: [t.existing] }) });
    const dir = mkdtempSync(join(tmpdir(), "bb-notify-crash-"));
    dirs.push(dir);
    const first = start(dir, yaml("sqlite", join(dir, "data")));
    await first.logged((l) => l.includes("recorded the published versions"));
    slack.holdPosts(1);
    const held = once(slack, "held");
    publish(t.published);
    await held; // the notification is in the outbox and on its way; Slack has not answered
    expect(first.stderr()).toContain('"notification queued"');
    first.kill();
    await first.exited;
    expect(postsOf(t.published)).toEqual([]);

    const second = start(dir, yaml("sqlite", join(dir, "data")));
    await vi.waitFor(() => expect(postsOf(t.published)).toHaveLength(1), { timeout: 30_000, interval: 50 });
    expect(postsOf(t.published)[0]?.text).toContain("#1887");
    await polls(2);
    expect(postsOf(t.published)).toHaveLength(1);
    second.kill();
  }, 120_000);

  it.skipIf(!haveRedis())(
    `two replicas on one Redis: each notification once; the survivor takes the schedule over${skipWhy(haveRedis(), "redis-server is not installed")}`,
    async () => {
      let redis: RedisServer | undefined;
      try {
        redis = await startRedis();
        index = await startIndexServer({ body: indexYaml({ binderhub: [t.existing] }) });
        const dirA = mkdtempSync(join(tmpdir(), "bb-notify-a-"));
        const dirB = mkdtempSync(join(tmpdir(), "bb-notify-b-"));
        dirs.push(dirA, dirB);
        const a = start(dirA, yaml(redis.url, join(dirA, "data")));
        const b = start(dirB, yaml(redis.url, join(dirB, "data")));
        await Promise.all([a, b].map((x) => x.logged((l) => l.includes('"platform":"slack"') && l.includes("adapter started"))));
        await vi.waitFor(() => expect([a, b].filter((x) => x.stderr().includes('"schedule lease taken"'))).toHaveLength(1), {
          timeout: 30_000,
          interval: 50,
        });
        await Promise.race([a, b].map((x) => x.logged((l) => l.includes("recorded the published versions"))));
        publish(t.published);
        await vi.waitFor(() => expect(postsOf(t.published)).toHaveLength(1), { timeout: 30_000, interval: 50 });
        await polls(3);
        expect(postsOf(t.published)).toHaveLength(1);

        // The holder dies; the other takes the lease over once it expires, and announces the next version once.
        const [holder, survivor] = a.stderr().includes('"schedule lease taken"') ? [a, b] : [b, a];
        holder.kill();
        await holder.exited;
        const next = "1.0.0-0.dev.git.9.habcdef12";
        publish(t.published, next);
        await survivor.logged((l) => l.includes('"schedule lease taken"'));
        await vi.waitFor(() => expect(postsOf(next)).toHaveLength(1), { timeout: 30_000, interval: 50 });
        await polls(3);
        expect(postsOf(next)).toHaveLength(1);
        expect(postsOf(t.published)).toHaveLength(1);
      } finally {
        for (const x of bots.splice(0)) x.kill();
        await redis?.stop();
      }
    },
    150_000,
  );
});
