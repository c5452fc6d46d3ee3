import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import type { Outlet } from "../src/core/adapter.ts";
import { renderPlain } from "../src/core/render.ts";
import type { Target } from "../src/notify/subscriptions.ts";
import { openStore } from "../src/store/store.ts";
import { recordingOutlet, say, testApp } from "./helpers/app.ts";
import { CHART_FILE, DEPLOY, type DeployWorld, deployWorld } from "./helpers/deploy.ts";

// Flood control off: one operator says many commands in a few seconds here.
const OPERATORS = 'access:\n  roles:\n    operators: ["test:alice"]\nflood: { max: 0 }\n';
const BRANCH = "binderbot/bump-binderhub";

/** Lines that differ between two texts of the same line count (the bump never adds or drops lines). */
function changedLines(a: string, b: string): Array<[string, string]> {
  const x = a.split("\n");
  const y = b.split("\n");
  expect(y.length).toBe(x.length);
  return x.flatMap((l, i) => (l === y[i] ? [] : [[l, y[i]!] as [string, string]]));
}

describe("!binder bump: a PR on the deploy repository that changes exactly the pinned version line", () => {
  let w: DeployWorld;
  let app: App;
  const writes = () => w.github.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/repos/${DEPLOY}`));

  beforeAll(async () => {
    w = await deployWorld();
    app = await w.app(OPERATORS);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("refused without the operators role: nothing is written", async () => {
    const r = await say(app, "!binder bump", { userId: "mallory" });
    expect(r?.ok).toBe(false);
    expect(r?.error).toMatch(/'bump' needs the role operators \(held by test:alice\); you are test:mallory/);
    expect(writes()).toEqual([]);
  });

  it("refuses an unpublished chart (by version and by ref) and an unknown ref, with the reason; nothing is written", async () => {
    const byVersion = await say(app, `!binder bump ${w.v.v5}`);
    expect(byVersion?.ok).toBe(false);
    expect(byVersion?.error).toContain(`${w.v.v5} is not a published binderhub chart, so I will not pin it`);
    const byRef = await say(app, `!binder bump ${w.c.v5.slice(0, 8)}`);
    expect(byRef?.ok).toBe(false);
    expect(byRef?.error).toContain(`is ${w.v.v5}, which is not published yet`);
    const unknown = await say(app, "!binder bump 0123456789abcdef");
    expect(unknown?.ok).toBe(false);
    expect(unknown?.error).toMatch(/^No commit 0123456789abcdef/);
    expect(writes()).toEqual([]);
  });

  it("opens the PR for the newest published chart: one line changed byte for byte, upstream PRs and the compare link in the body", async () => {
    const r = await say(app, "!binder bump");
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    expect(r?.data).toMatchObject({ kind: "opened", from: w.v.v1, to: w.v.v4, how: "the newest published version" });
    const [pr, ...more] = w.github.pullsOf(DEPLOY);
    expect(more).toEqual([]);
    expect(pr).toMatchObject({
      state: "open",
      title: `Bump binderhub to ${w.v.v4}`,
      head: { ref: BRANCH },
      base: { ref: "main" },
    });
    expect(renderPlain(r!)).toContain(`Opened PR #${pr!.number} (https://github.com/${DEPLOY}/pull/${pr!.number})`);

    const before = w.github.fileAt(DEPLOY, CHART_FILE, "main")!;
    const after = w.github.fileAt(DEPLOY, CHART_FILE, BRANCH)!;
    expect(changedLines(before, after)).toEqual([
      [`    version: "${w.v.v1}"   # keep the quotes`, `    version: "${w.v.v4}"   # keep the quotes`],
    ]);
    expect(after.replace(w.v.v4, w.v.v1)).toBe(before); // every other byte kept
    expect(w.github.writes).toEqual([expect.objectContaining({ branch: BRANCH, path: CHART_FILE })]);

    const body = pr!.body ?? "";
    for (const line of [
      "- jupyterhub/binderhub#103 Quota per repository",
      "- jupyterhub/binderhub#102 Fix the health check",
      "- jupyterhub/binderhub#101 Use a faster builder",
    ])
      expect(body).toContain(line);
    expect(body).toMatch(/Compare: https:\/\/github\.com\/jupyterhub\/binderhub\/compare\/[0-9a-f]{40}\.\.\.[0-9a-f]{40}/);
    expect(body).toContain("Requested by test:alice");
  });

  it("a second bump updates the open PR instead of opening another; its branch is still one line from main", async () => {
    const r = await say(app, `!binder bump ${w.c.v3.slice(0, 8)}`);
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    expect(r?.data).toMatchObject({ kind: "updated", to: w.v.v3 });
    const pulls = w.github.pullsOf(DEPLOY);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ title: `Bump binderhub to ${w.v.v3}` });
    expect(pulls[0]!.body).not.toContain("#103");
    expect(pulls[0]!.body).toContain("#102 Fix the health check");
    expect(renderPlain(r!)).toContain(`Updated PR #${pulls[0]!.number}`);
    const before = w.github.fileAt(DEPLOY, CHART_FILE, "main")!;
    const after = w.github.fileAt(DEPLOY, CHART_FILE, BRANCH)!;
    expect(changedLines(before, after)).toEqual([
      [`    version: "${w.v.v1}"   # keep the quotes`, `    version: "${w.v.v3}"   # keep the quotes`],
    ]);
    expect(w.github.requestsTo(`/repos/${DEPLOY}/pulls`, "POST")).toHaveLength(1);
  });

  it("a version that is already pinned: nothing to do, nothing written", async () => {
    const n = writes().length;
    const r = await say(app, `!binder bump binderhub ${w.v.v1}`);
    expect(r?.ok).toBe(true);
    expect(r?.data).toMatchObject({ kind: "already-pinned" });
    expect(renderPlain(r!)).toContain("nothing to bump");
    expect(writes().length).toBe(n);
  });
});

describe("after a bump: the asker's thread is told when the PR is merged and deployed", () => {
  let w: DeployWorld;
  let app: App;
  const said: string[] = [];
  const outlet: Outlet = {
    answered: Promise.resolve(),
    send: async (room, reply) => {
      said.push(`${room}/${reply.thread ?? "-"}: ${renderPlain(reply)}`);
      return { room, id: String(said.length) };
    },
    update: async (p) => p,
  };
  const bump = (text: string, eventId: string) =>
    app.bot.handle({ platform: "test", room: "ops", thread: "t1", userId: "alice", text, eventId }, outlet);

  beforeAll(async () => {
    w = await deployWorld();
    app = await w.app(OPERATORS, { deployExtra: "  bumpPollSeconds: 0.01" });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("merged, then its deploy run: the verdict in the thread; a PR closed unmerged is said too", async () => {
    const r = await bump("!binder bump", "b1");
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    expect(renderPlain(r!)).toContain("I'll tell this thread when it is merged and deployed (I follow it for 24 h).");
    const pr = w.github.pullsOf(DEPLOY)[0]!;
    const mergeSha = "a".repeat(40);
    w.github.mergePull(DEPLOY, pr.number, mergeSha);
    const run = w.github.addRun(DEPLOY, { head_sha: mergeSha, conclusion: "success", run_number: 77 });
    await app.bot.idle();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      new RegExp(`^ops/t1: PR #${pr.number} \\(.*\\) \\(${w.v.v4.replace(/\./g, "\\.")}\\) is deployed\\. Deploy: run #77 `),
    );
    expect(said[0]).toContain(`actions/runs/${run.id}`);

    w.github.setFile(DEPLOY, CHART_FILE, w.github.fileAt(DEPLOY, CHART_FILE, BRANCH)!, "main"); // the merge landed
    const again = await bump(`!binder bump ${w.c.v3.slice(0, 8)}`, "b2");
    expect(again?.data).toMatchObject({ kind: "opened" }); // the merged PR is not open: a new one
    const second = w.github.pullsOf(DEPLOY).find((p) => p.number !== pr.number)!;
    w.github.setPull(DEPLOY, second.number, { state: "closed" });
    await app.bot.idle();
    expect(said[1]).toBe(
      `ops/t1: PR #${second.number} (https://github.com/${DEPLOY}/pull/${second.number}) (${w.v.v3}) was closed without being merged: nothing was deployed.`,
    );
  });

  it("nothing is promised where no later message reaches anyone", async () => {
    const r = await say(app, `!binder bump ${w.v.v2}`);
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    expect(renderPlain(r!)).not.toContain("I'll tell this thread");
  });
});

describe("a bump follow survives a restart (the follow record in the store)", () => {
  let w: DeployWorld;
  let dir: string;
  beforeAll(async () => {
    w = await deployWorld();
    dir = mkdtempSync(join(tmpdir(), "bb-bump-follow-"));
  }, 60_000);
  afterAll(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["", 0],
    [" (its follow deadline passed meanwhile: one last look, not 'I stopped following')", 1000 * 3_600_000],
  ])("merged and deployed while the bot was down%s: the restarted bot tells the original thread once", async (_, later) => {
    const yaml = w.yaml(OPERATORS, "  bumpPollSeconds: 0.01");
    const first = await testApp(yaml, { store: await openStore("sqlite", dir) });
    const said: string[] = [];
    const outlet: Outlet = {
      answered: Promise.resolve(),
      send: async (room, reply) => {
        said.push(renderPlain(reply));
        return { room, id: "1" };
      },
      update: async (p) => p,
    };
    const msg = { platform: "test", room: "ops", thread: "t9", userId: "alice", text: "!binder bump", eventId: "r1" };
    const r = await first.bot.handle(msg, outlet);
    expect(renderPlain(r!)).toContain("I'll tell this thread when it is merged and deployed");
    await first.close(); // a restart while the PR is still open
    expect(said).toEqual([]);

    const pr = w.github.pullsOf(DEPLOY).at(-1)!; // the PR this bump opened (the world is shared by the cases)
    const mergeSha = "b".repeat(40);
    w.github.mergePull(DEPLOY, pr.number, mergeSha);
    w.github.addRun(DEPLOY, { head_sha: mergeSha, conclusion: "success", run_number: 78 });

    const second = await testApp(yaml, { store: await openStore("sqlite", dir), now: () => new Date(Date.now() + later) });
    try {
      const sent: Array<{ target: Target; text: string }> = [];
      await second.services.notify.start(async (target, reply) => {
        sent.push({ target, text: renderPlain(reply) });
      });
      expect(await second.resumeFollows()).toBe(1);
      await second.services.notify.outbox.drain();
      expect(sent).toHaveLength(1);
      expect(sent[0]?.target).toEqual({ platform: "test", room: "ops", thread: "t9" });
      expect(sent[0]?.text).toMatch(new RegExp(`^PR #${pr.number} .* is deployed\\. Deploy: run #78 `));
      expect(await second.resumeFollows()).toBe(0);
    } finally {
      await second.close();
    }
  });

  it("a bump of the same PR after a restart: the thread's resumed follow is not doubled; another thread gets its own", async () => {
    const yaml = w.yaml(OPERATORS, "  bumpPollSeconds: 3600");
    const outlet = recordingOutlet([]);
    const bump = (a: App, thread: string, eventId: string) =>
      a.bot.handle({ platform: "test", room: "ops", thread, userId: "alice", text: "!binder bump", eventId }, outlet);
    const bumps = async (a: App) => {
      const out: Array<{ pr: number | undefined; thread: string | null | undefined }> = [];
      for await (const r of a.services.follows.pending()) out.push({ pr: r.bump?.pr, thread: r.target.thread });
      return out;
    };
    const first = await testApp(yaml, { store: await openStore("sqlite", dir) });
    expect(renderPlain((await bump(first, "t20", "s1"))!)).toContain("I'll tell this thread");
    await first.close(); // its record stays for the restart
    const second = await testApp(yaml, { store: await openStore("sqlite", dir) });
    try {
      const [rec] = await bumps(second);
      expect(rec).toMatchObject({ thread: "t20" });
      expect(renderPlain((await bump(second, "t20", "s2"))!)).toContain("I'll tell this thread");
      expect(await bumps(second)).toEqual([rec]); // the stored follow tells t20; no second one
      await bump(second, "t21", "s3");
      expect((await bumps(second)).map((r) => r.thread).sort()).toEqual(["t20", "t21"]);
    } finally {
      await second.close();
    }
  });
});
