import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import type { Reply } from "../src/core/reply.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { FakeTravis } from "./fakes/travis.ts";
import { chartBotYaml, recordingOutlet, say, testApp } from "./helpers/app.ts";
import { DEPLOY, endAttempt, failedRun, LEGITIMATE, SPURIOUS, steppedDelay } from "./helpers/retry.ts";

const OPS = `access:\n  roles:\n    operators: ["slack:UOPS", "slack:UOPS2"]\n`;
const ALICE = { platform: "slack", userId: "UOPS", room: "COPS" };

let gh: FakeGitHub;
let app: App;
let clock: number;
const now = () => new Date(clock);

async function start(extra = "", opts: { delay?: (ms: number, signal?: AbortSignal) => Promise<void> } = {}): Promise<void> {
  app = await testApp(`${chartBotYaml({ githubUrl: gh.url })}${OPS}${extra}`, { now, ...opts });
}

const text = (r: Reply | null) => (r ? renderPlain(r) : "");
const entriesOf = (r: Reply | null) => ((r?.data ?? {}) as { entries?: Array<Record<string, unknown>> }).entries ?? [];
const posts = () => gh.requests.filter((r) => r.method === "POST");

beforeEach(async () => {
  clock = Date.parse("2024-10-24T12:00:00Z");
  gh = await startFakeGitHub({ now });
  gh.setRepo(DEPLOY);
});
afterEach(async () => {
  await app?.close();
  await gh.close();
});

describe("!binder retry on GitHub Actions (fake GitHub records every request)", () => {
  it("retries the latest failed spurious run with exactly one rerun-failed-jobs POST and links the new attempt", async () => {
    await start();
    const run = failedRun(gh, now(), SPURIOUS);
    const r = await say(app, "!binder retry", ALICE);
    expect(r?.ok).toBe(true);
    expect(posts().map((p) => p.path)).toEqual([`/repos/${DEPLOY}/actions/runs/${run.id}/rerun-failed-jobs`]);
    expect(text(r)).toContain(`actions/runs/${run.id}`);
    expect(r?.data).toMatchObject({ retried: true, verdict: "spurious", runId: String(run.id), following: false });
    // without a conversation that lasts (no outlet here), the reply promises no follow-up
    expect(text(r)).not.toContain("I will say here");
  });

  it("--all re-runs the whole run (POST …/rerun)", async () => {
    await start();
    const run = failedRun(gh, now(), SPURIOUS);
    const r = await say(app, `!binder retry ${run.id} --all`, ALICE);
    expect(r?.ok).toBe(true);
    expect(posts().map((p) => p.path)).toEqual([`/repos/${DEPLOY}/actions/runs/${run.id}/rerun`]);
  });

  it("plain questions: 'binderbot: retry the deploy', 'can you restart CI?'", async () => {
    await start("retry: { perRun: 5 }\n");
    const run = failedRun(gh, now(), SPURIOUS);
    for (const q of ["binderbot: retry the deploy", "binderbot, can you restart CI?"]) {
      gh.updateRun(run.id, { status: "completed", conclusion: "failure" });
      const r = await say(app, q, ALICE);
      expect(r?.command).toBe("retry");
      expect(r?.ok).toBe(true);
    }
    expect(posts()).toHaveLength(2);
  });

  it("refuses a legitimate failure with the verdict, the decisive line and --force; no POST", async () => {
    await start();
    const run = failedRun(gh, now(), LEGITIMATE);
    const r = await say(app, "!binder retry", ALICE);
    expect(r?.ok).toBe(false);
    expect(text(r)).toContain("legitimate");
    expect(text(r)).toContain("H01");
    expect(text(r)).toContain(`!binder retry ${run.id} --force`);
    expect(text(r)).toMatch(/Decisive line: .*can't get a valid version/);
    expect(posts()).toEqual([]);
  });

  it("--force asks for `yes` from the same person in the same room within the window", async () => {
    await start();
    const run = failedRun(gh, now(), LEGITIMATE);
    const asked = await say(app, "!binder retry --force", ALICE);
    expect(asked?.ok).toBe(true);
    expect(text(asked)).toContain("!binder yes");
    expect(posts()).toEqual([]);
    // another operator, or the same one in another room: confirms nothing
    expect((await say(app, "!binder yes", { ...ALICE, userId: "UOPS2" }))?.ok).toBe(false);
    expect((await say(app, "!binder yes", { ...ALICE, room: "COTHER" }))?.ok).toBe(false);
    expect(posts()).toEqual([]);
    clock += 60_000;
    const yes = await say(app, "!binder yes", ALICE);
    expect(yes?.ok).toBe(true);
    expect(yes?.data).toMatchObject({ retried: true, forced: true });
    expect(posts().map((p) => p.path)).toEqual([`/repos/${DEPLOY}/actions/runs/${run.id}/rerun-failed-jobs`]);
    // a confirmation is used once
    expect((await say(app, "!binder yes", ALICE))?.ok).toBe(false);
  });

  it("a `yes` after the window confirms nothing", async () => {
    await start();
    failedRun(gh, now(), LEGITIMATE);
    await say(app, "!binder retry --force", ALICE);
    clock += 121_000;
    const yes = await say(app, "!binder yes", ALICE);
    expect(yes?.ok).toBe(false);
    expect(yes?.error).toContain("Nothing is waiting for your confirmation");
    expect(posts()).toEqual([]);
  });

  it("budget per run: the third retry of one run is refused (retry.perRun 2)", async () => {
    await start();
    const run = failedRun(gh, now(), SPURIOUS);
    for (let i = 0; i < 2; i++) {
      expect((await say(app, `!binder retry ${run.id}`, ALICE))?.ok).toBe(true);
      gh.updateRun(run.id, { status: "completed", conclusion: "failure" });
      gh.addJob(run.id, { name: "deploy (staging)", conclusion: "failure", log: SPURIOUS });
    }
    const third = await say(app, `!binder retry ${run.id}`, ALICE);
    expect(third?.ok).toBe(false);
    expect(third?.error).toContain("already retried 2 times (retry.perRun: 2)");
    expect(posts()).toHaveLength(2);
  });

  it("budget per hour per deploy repository, saying when the next is possible", async () => {
    await start("retry: { perHour: 1 }\n");
    const a = failedRun(gh, now(), SPURIOUS, 20);
    const b = failedRun(gh, now(), SPURIOUS, 10);
    expect((await say(app, `!binder retry ${a.id}`, ALICE))?.ok).toBe(true);
    clock += 10 * 60_000;
    const r = await say(app, `!binder retry ${b.id}`, ALICE);
    expect(r?.ok).toBe(false);
    expect(r?.error).toContain("retry.perHour: 1");
    expect(r?.error).toContain("the next is possible at 13:00 UTC");
    expect(posts()).toHaveLength(1);
    clock += 51 * 60_000;
    expect((await say(app, `!binder retry ${b.id}`, ALICE))?.ok).toBe(true);
  });

  it("no retry of a run in progress, already green, or too old; none of them sends a POST", async () => {
    await start();
    const running = gh.addRun(DEPLOY, { status: "in_progress", conclusion: null });
    const green = gh.addRun(DEPLOY, { conclusion: "success" });
    const old = failedRun(gh, now(), SPURIOUS, 31 * 24 * 60);
    expect((await say(app, `!binder retry ${running.id}`, ALICE))?.error).toContain("still in progress");
    expect((await say(app, `!binder retry ${green.id}`, ALICE))?.error).toContain("already green");
    expect((await say(app, `!binder retry ${old.id}`, ALICE))?.error).toContain("31 days old");
    expect(posts()).toEqual([]);
  });

  it("`retry` alone when a newer run is green: nothing to retry", async () => {
    await start();
    failedRun(gh, now(), SPURIOUS, 20);
    gh.addRun(DEPLOY, {
      conclusion: "success",
      created_at: new Date(clock - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    const r = await say(app, "!binder retry", ALICE);
    expect(r?.ok).toBe(false);
    expect(r?.error).toContain("green again");
    expect(posts()).toEqual([]);
  });

  it("errors in one line: 403 → actions: write; not found; rate limited → when", async () => {
    await start();
    const run = failedRun(gh, now(), SPURIOUS);
    gh.failNext(`/repos/${DEPLOY}/actions/runs/${run.id}/rerun-failed-jobs`, 403, {
      message: "Resource not accessible by integration",
    });
    const denied = await say(app, `!binder retry ${run.id}`, ALICE);
    expect(denied?.ok).toBe(false);
    expect(denied?.error).toContain("needs the 'actions: write' permission");
    const missing = await say(app, "!binder retry 123456789", ALICE);
    expect(missing?.ok).toBe(false);
    expect(missing?.error).toMatch(/no run 123456789|not found|has no/i);
    gh.rateLimitNext("primary", { match: `/repos/${DEPLOY}/actions/runs/${run.id}/rerun-failed-jobs`, resetInS: 1800 });
    const limited = await say(app, `!binder retry ${run.id}`, ALICE);
    expect(limited?.ok).toBe(false);
    expect(limited?.error).toMatch(/rate limit exhausted; it resets at \d\d:\d\d UTC \(in 30 min\)/);
    for (const r of [denied, missing, limited]) expect(r?.error).not.toContain("\n");
    // the failed requests spent no budget: the ledger says error
    const log = await say(app, "!binder retry --log", ALICE);
    expect(entriesOf(log).map((e) => e.outcome)).toEqual(["error", "error"]);
  });

  it("the ledger (--log): who, when, which run, the verdict then, the outcome", async () => {
    await start();
    const spurious = failedRun(gh, now(), SPURIOUS, 20);
    const legit = failedRun(gh, now(), LEGITIMATE, 10);
    await say(app, `!binder retry ${spurious.id}`, ALICE);
    clock += 60_000;
    await say(app, `!binder retry ${legit.id}`, { ...ALICE, userId: "UOPS2" });
    const r = await say(app, "!binder retry --log", ALICE);
    expect(r?.ok).toBe(true);
    const entries = entriesOf(r);
    expect(entries).toMatchObject([
      { who: "slack:UOPS2", runId: String(legit.id), verdict: "legitimate", outcome: "refused", at: "2024-10-24T12:01:00.000Z" },
      { who: "slack:UOPS", runId: String(spurious.id), verdict: "spurious", outcome: "started", room: "slack:COPS" },
    ]);
    expect(text(r)).toContain("slack:UOPS2");
    expect(text(r)).toContain(`run ${legit.id}`);
  });

  it("follows the new attempt and says in the thread how it ended: failed again, with the `why` verdict", async () => {
    const stepped = steppedDelay();
    await start("", { delay: stepped.delay });
    const run = failedRun(gh, now(), SPURIOUS);
    const said: Reply[] = [];
    const outlet = recordingOutlet(said);
    const r = await app.bot.handle({ ...ALICE, text: "!binder retry", eventId: "e1", thread: "1700000000.000100" }, outlet);
    expect(r?.ok).toBe(true);
    expect(text(r)).toContain("I will say here how it ends");
    await stepped.waiting();
    stepped.step(); // the first look: the new attempt is queued
    await stepped.waiting();
    endAttempt(gh, gh.updateRun(run.id, {}), LEGITIMATE);
    stepped.step();
    await app.bot.idle();
    expect(said).toHaveLength(1);
    expect(said[0]?.thread).toBe("1700000000.000100");
    expect(text(said[0] ?? null)).toContain("failed again");
    expect(text(said[0] ?? null)).toContain("legitimate");
    expect(text(said[0] ?? null)).toContain("can't get a valid version");
    const log = await say(app, "!binder retry --log", ALICE);
    expect(entriesOf(log)[0]).toMatchObject({
      outcome: "failure",
      detail: "why: legitimate (H01)",
    });
  });
});

describe("!binder retry on Travis CI (fake Travis records restarts)", () => {
  let travis: FakeTravis;
  afterEach(async () => {
    await travis?.close();
  });

  async function travisApp(token = "tt"): Promise<void> {
    travis = await new FakeTravis({ slug: DEPLOY, token: "tt" }).start();
    app = await testApp(
      `${chartBotYaml({ githubUrl: gh.url, extra: `  ci: travis\n  travisApiUrl: ${travis.url}\n  travis: { token: ${token} }` })}${OPS}`,
      { now },
    );
  }

  function build(id: number, log: string) {
    travis.builds.push({
      id,
      number: String(id),
      state: "failed",
      branch: "main",
      sha: "a".repeat(40),
      startedAt: new Date(clock - 600_000).toISOString(),
      jobs: [{ id: id * 10, state: "failed", log }],
    });
  }

  it("restarts the failed job of a spurious build (v3 POST /job/{id}/restart)", async () => {
    await travisApp();
    build(5_000_001, SPURIOUS);
    const r = await say(app, "!binder retry", ALICE);
    expect(r?.ok).toBe(true);
    expect(travis.restarts).toEqual(["job:50000010"]);
  });

  it("--all restarts the build; a token without push access: one line saying so", async () => {
    await travisApp();
    build(5_000_002, SPURIOUS);
    travis.failRestartWith = 403;
    const denied = await say(app, "!binder retry 5000002 --all", ALICE);
    expect(denied?.ok).toBe(false);
    expect(denied?.error).toContain("push access");
    travis.failRestartWith = null;
    expect((await say(app, "!binder retry 5000002 --all", ALICE))?.ok).toBe(true);
    expect(travis.restarts).toEqual(["build:5000002"]);
  });

  it("refuses a legitimate build without a restart", async () => {
    await travisApp();
    build(5_000_003, LEGITIMATE);
    const r = await say(app, "!binder retry", ALICE);
    expect(r?.ok).toBe(false);
    expect(text(r)).toContain("legitimate");
    expect(travis.restarts).toEqual([]);
  });
});
