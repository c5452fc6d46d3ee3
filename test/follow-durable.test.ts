import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import type { Outlet } from "../src/core/adapter.ts";
import { renderPlain } from "../src/core/render.ts";
import type { Reply } from "../src/core/reply.ts";
import type { FollowRecord } from "../src/follow/records.ts";
import type { Target } from "../src/notify/subscriptions.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { type FakeGitHub, type FakeRun, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, recordingOutlet, say, testApp } from "./helpers/app.ts";
import { haveRedis, type RedisServer, startRedis } from "./helpers/redis.ts";
import { DEPLOY, endAttempt, failedRun, SPURIOUS, steppedDelay } from "./helpers/retry.ts";
import { skipWhy } from "./helpers/skip.ts";

// A follow the bot promised in a thread (here: `retry`'s "I will say here how it ends") is in the
// store while it runs; a restart resumes it to its original deadline and says the outcome through the
// outbox, once, in the original thread.

const OPS = `access:\n  roles:\n    operators: ["slack:UOPS"]\n`;
const ALICE = { platform: "slack", userId: "UOPS", room: "COPS" };
const THREAD = "1700000000.000100";

let gh: FakeGitHub;
let dir: string;
let clock: number;
const now = () => new Date(clock);
const apps: App[] = [];
const text = (r: Reply | null | undefined) => (r ? renderPlain(r) : "");
const yaml = () => `${chartBotYaml({ githubUrl: gh.url })}${OPS}`;

beforeEach(async () => {
  clock = Date.parse("2024-10-24T12:00:00Z");
  gh = await startFakeGitHub({ now });
  gh.setRepo(DEPLOY);
  dir = mkdtempSync(join(tmpdir(), "bb-follow-"));
});
afterEach(async () => {
  for (const a of apps.splice(0).reverse()) await a.close().catch(() => {});
  await gh.close();
  rmSync(dir, { recursive: true, force: true });
});

async function app(store: Store, delay?: (ms: number, signal?: AbortSignal) => Promise<void>): Promise<App> {
  const a = await testApp(yaml(), { now, store, ...(delay ? { delay } : {}) });
  apps.push(a);
  return a;
}

const records = async (a: App) => {
  const out: FollowRecord[] = [];
  for await (const r of a.services.follows.pending()) out.push(r);
  return out;
};

/** The first bot: retries in a thread, starts following, and is stopped (its follow with it). */
async function retryThenStop(): Promise<FakeRun> {
  const stepped = steppedDelay();
  const first = await app(await openStore("sqlite", dir), stepped.delay);
  const run = failedRun(gh, now(), SPURIOUS);
  const said: Reply[] = [];
  const outlet = recordingOutlet(said);
  const r = await first.bot.handle({ ...ALICE, text: "!binder retry", eventId: "e1", thread: THREAD }, outlet);
  expect(text(r)).toContain("I will say here how it ends");
  await stepped.waiting(); // following now
  const recs = await records(first);
  expect(recs).toMatchObject([
    { kind: "retry", target: { platform: "slack", room: "COPS", thread: THREAD }, retry: { run: { id: String(run.id) } } },
  ]);
  await first.close();
  apps.splice(apps.indexOf(first), 1);
  expect(said).toHaveLength(0); // nothing said before the restart
  return run;
}

/** A restarted bot on `store` whose notifier delivers into `sent`. */
async function restarted(store: Store, sent: Array<{ target: Target; reply: Reply }>): Promise<App> {
  const a = await app(store, async () => {});
  await a.services.notify.start(async (target, reply) => {
    sent.push({ target, reply });
  });
  return a;
}

async function ledgerOutcome(a: App): Promise<unknown> {
  const log = await say(a, "!binder retry --log", ALICE);
  return ((log?.data ?? {}) as { entries?: Array<{ outcome: string; detail: string | null }> }).entries?.[0];
}

describe("follows survive a restart", () => {
  it("retry: the run ends while the bot is down; the restarted bot tells the original thread once and settles the ledger", async () => {
    const run = await retryThenStop();
    endAttempt(gh, gh.updateRun(run.id, {}), null); // the new attempt passed during the downtime
    const sent: Array<{ target: Target; reply: Reply }> = [];
    const second = await restarted(await openStore("sqlite", dir), sent);
    expect(await second.resumeFollows()).toBe(1);
    await second.services.notify.outbox.drain();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.target).toEqual({ platform: "slack", room: "COPS", thread: THREAD });
    expect(sent[0]?.reply.thread).toBe(THREAD);
    expect(text(sent[0]?.reply)).toContain("passed: the deploy is green again");
    expect(await ledgerOutcome(second)).toMatchObject({ outcome: "success" });
    expect(await records(second)).toEqual([]);
    // Nothing is left to resume: a second scan says nothing more.
    expect(await second.resumeFollows()).toBe(0);
    await second.services.notify.outbox.drain();
    expect(sent).toHaveLength(1);
  });

  it("retry: a deadline that passed during the downtime gives the gave-up message once; the ledger says not-followed", async () => {
    await retryThenStop();
    clock += 121 * 60_000; // retry.followMinutes (120) passed while the bot was down
    const sent: Array<{ target: Target; reply: Reply }> = [];
    const second = await restarted(await openStore("sqlite", dir), sent);
    expect(await second.resumeFollows()).toBe(1);
    await second.services.notify.outbox.drain();
    expect(sent.map((s) => text(s.reply))).toEqual([
      expect.stringContaining("has not ended after 120 minutes; I stop following it"),
    ]);
    expect(sent[0]?.target.thread).toBe(THREAD);
    expect(await ledgerOutcome(second)).toMatchObject({ outcome: "not-followed", detail: "not ended after 120 min" });
    expect(await second.resumeFollows()).toBe(0);
    await second.services.notify.outbox.drain();
    expect(sent).toHaveLength(1);
  });

  it("retry: the deadline passed during the downtime but the run ended meanwhile: its outcome is said, not 'has not ended'", async () => {
    const run = await retryThenStop();
    endAttempt(gh, gh.updateRun(run.id, {}), null); // the new attempt passed while the bot was down
    clock += 121 * 60_000; // and retry.followMinutes (120) passed too
    const sent: Array<{ target: Target; reply: Reply }> = [];
    const second = await restarted(await openStore("sqlite", dir), sent);
    expect(await second.resumeFollows()).toBe(1);
    await second.services.notify.outbox.drain();
    expect(sent.map((s) => text(s.reply))).toEqual([expect.stringContaining("passed: the deploy is green again")]);
    expect(await ledgerOutcome(second)).toMatchObject({ outcome: "success" });
  });

  it("two bots on one store resume a record once (the follow lease)", async () => {
    const run = await retryThenStop();
    endAttempt(gh, gh.updateRun(run.id, {}), null);
    const shared = await openStore("sqlite", dir);
    const sentA: Array<{ target: Target; reply: Reply }> = [];
    const sentB: Array<{ target: Target; reply: Reply }> = [];
    const a = await restarted(shared, sentA);
    const b = await restarted(shared, sentB);
    const [na, nb] = await Promise.all([a.resumeFollows(), b.resumeFollows()]);
    expect(na + nb).toBe(1);
    await Promise.all([a.services.notify.outbox.drain(), b.services.notify.outbox.drain()]);
    expect(sentA.length + sentB.length).toBe(1);
    expect(await ledgerOutcome(a)).toMatchObject({ outcome: "success" });
  });

  it.skipIf(!haveRedis())(
    `two replicas on one real Redis resume a record once${skipWhy(haveRedis(), "redis-server is not installed")}`,
    async () => {
      let redis: RedisServer | undefined;
      try {
        redis = await startRedis();
        const stepped = steppedDelay();
        const first = await app(await openStore(redis.url, dir), stepped.delay);
        const run = failedRun(gh, now(), SPURIOUS);
        const outlet: Outlet = { send: async (room) => ({ room, id: "1" }), update: async (p) => p };
        await first.bot.handle({ ...ALICE, text: "!binder retry", eventId: "e1", thread: THREAD }, outlet);
        await stepped.waiting();
        await first.close();
        apps.splice(apps.indexOf(first), 1);
        endAttempt(gh, gh.updateRun(run.id, {}), null);
        const sentA: Array<{ target: Target; reply: Reply }> = [];
        const sentB: Array<{ target: Target; reply: Reply }> = [];
        const a = await restarted(await openStore(redis.url, dir), sentA);
        const b = await restarted(await openStore(redis.url, dir), sentB);
        const [na, nb] = await Promise.all([a.resumeFollows(), b.resumeFollows()]);
        expect(na + nb).toBe(1);
        await Promise.all([a.services.notify.outbox.drain(), b.services.notify.outbox.drain()]);
        expect(sentA.length + sentB.length).toBe(1);
        expect(text((sentA[0] ?? sentB[0])?.reply)).toContain("passed: the deploy is green again");
        for (const x of apps.splice(0).reverse()) await x.close();
      } finally {
        await redis?.stop();
      }
    },
  );
});
