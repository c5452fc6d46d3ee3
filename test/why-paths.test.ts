import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.ts";
import { commands } from "../src/commands/index.ts";
import { parseConfig } from "../src/config/load.ts";
import type { CommandSpec } from "../src/core/command.ts";
import { renderPlain } from "../src/core/render.ts";
import type { Reply } from "../src/core/reply.ts";
import type { Services } from "../src/services.ts";
import { openStore } from "../src/store/store.ts";
import { type FakeGitHub, type FakeJob, type FakeRun, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, say } from "./helpers/app.ts";
import { silentLogger } from "./helpers/log.ts";

/**
 * The answers of `why` that why-github.test.ts does not reach: a run still running or not failed, a
 * job URL of a job that did not fail, a failed run without failed jobs, an unclassified failure with
 * other failed jobs and an unreadable log, the retry hint, --stats without the CI, and a chart pin
 * that cannot be read at the run's commit.
 */

const DEPLOY = "jupyterhub/mybinder.org-deploy";
const WAIT_TIMEOUT = "Error: UPGRADE FAILED: timed out waiting for the condition";
const ODD = "the flux capacitor is out of alignment";

function ghaLog(lines: string[]): string {
  const start = Date.parse("2024-10-24T10:00:00Z");
  return `${lines.map((l, i) => `${new Date(start + i * 1000).toISOString().replace("Z", "0000Z")} ${l}`).join("\n")}\n`;
}

const SPURIOUS_LOG = ghaLog([
  "##[group]Run python deploy.py staging",
  WAIT_TIMEOUT,
  "##[error]Process completed with exit code 1.",
]);
const ODD_LOG = ghaLog(["##[group]Run something odd", "warming up", ODD, "##[error]Process completed with exit code 3."]);
const HELM2_LOG = ghaLog([
  "##[group]Run python deploy.py staging",
  "Error: Can't get a valid version for repositories binderhub. Try changing the version constraint in requirements.yaml",
  "##[error]Process completed with exit code 1.",
]);

function text(r: Reply | null): string {
  return r ? renderPlain(r) : "";
}

describe("why: the answers beyond the main paths", () => {
  let gh: FakeGitHub;
  let app: App;
  const at = (min: number) => new Date(Date.parse("2024-10-24T10:00:00Z") + min * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");

  async function start(extra: readonly CommandSpec<Services>[] = []): Promise<void> {
    const loaded = parseConfig(chartBotYaml({ githubUrl: gh.url }), "test.yaml", {});
    app = await createApp(loaded, {
      log: silentLogger(),
      store: await openStore("memory", "."),
      now: () => new Date(Date.parse("2024-10-24T12:00:00Z")),
      commands: [...commands, ...extra],
    });
  }

  function run(min: number, patch: Partial<FakeRun> = {}): FakeRun {
    return gh.addRun(DEPLOY, { conclusion: "failure", created_at: at(min), ...patch });
  }
  function job(r: FakeRun, name: string, log: string | null, conclusion: FakeJob["conclusion"] = "failure"): FakeJob {
    return gh.addJob(r.id, { name, conclusion, log });
  }

  beforeEach(async () => {
    gh = await startFakeGitHub({ now: () => new Date(Date.parse("2024-10-24T12:00:00Z")) });
    gh.setRepo(DEPLOY);
  });
  afterEach(async () => {
    await app?.close();
    await gh.close();
  });

  it("a run still running, and a run that succeeded (kept in the history for --stats)", async () => {
    const running = run(10, { status: "in_progress", conclusion: null });
    const fine = run(20, { conclusion: "success" });
    job(fine, "deploy", "ok\n", "success");
    await start();
    const r1 = await say(app, `!binder why ${running.id}`);
    expect(r1?.ok).toBe(true);
    expect(r1?.data).toMatchObject({ runId: String(running.id), verdict: null });
    expect(text(r1)).toMatch(/is still running; ask again when it has finished\.$/);

    const r2 = await say(app, `!binder why ${fine.id}`);
    expect(r2?.data).toMatchObject({ runId: String(fine.id), verdict: "success", provider: "github-actions" });
    expect(text(r2)).toMatch(/did not fail: it ended as success\./);

    gh.rateLimitNext("primary", { resetInS: 3600, times: 5 });
    const s = await say(app, "!binder why --stats");
    expect(s?.ok).toBe(true);
    expect(s?.data).toMatchObject({ runs: 1, successes: 1, failures: 0, unreadable: 0 });
    expect(text(s)).toMatch(/^\(GitHub refused .*; these are the 1 runs I diagnosed before\.\)/);
  });

  it("a job URL of a job that did not fail, and a failed run with no failed job", async () => {
    const r = run(10);
    const okJob = job(r, "lint", "ok\n", "success");
    job(r, "deploy", SPURIOUS_LOG);
    const empty = run(20);
    job(empty, "deploy", "ok\n", "success");
    await start();
    const a = await say(app, `!binder why https://github.com/${DEPLOY}/actions/runs/${r.id}/job/${okJob.id}`);
    expect(a?.ok).toBe(false);
    expect(a?.error).toMatch(
      new RegExp(`^Job ${okJob.id} is not among the failed jobs of Continuous Deployment #\\d+ \\(main, `),
    );
    expect(a?.data).toMatchObject({ runId: String(r.id), verdict: null });

    const b = await say(app, `!binder why ${empty.id}`);
    expect(b?.ok).toBe(false);
    expect(b?.error).toMatch(/failed, but none of its jobs did \(it may have failed before any job started\); see https:/);
  });

  it("unclassified: the last lines, the other failed jobs, an unreadable log; a spurious one names retry when it exists", async () => {
    const r = run(10);
    job(r, "deploy (staging)", ODD_LOG);
    job(r, "deploy (prod)", ODD_LOG);
    job(r, "deploy (ovh)", null);
    const s = run(20);
    job(s, "deploy", SPURIOUS_LOG);
    await start(); // the real retry command is registered
    const a = await say(app, `!binder why ${r.id}`);
    const t = text(a);
    expect(a?.data).toMatchObject({ verdict: "unknown", signature: null, retrySuggested: false, chart: null });
    expect(a?.data?.context).toEqual(expect.arrayContaining([ODD]));
    expect(a?.data?.otherJobs).toEqual([expect.objectContaining({ name: "deploy (prod)", verdict: "unknown", signature: null })]);
    expect(t).toContain("I could not classify this failure");
    expect(t).toContain("The last lines before the failure:");
    expect(t).toContain("Other failed jobs:");
    expect(t).toMatch(/\(1 more failed job log could not be read: /);

    const b = await say(app, `!binder why ${s.id}`);
    expect(b?.data).toMatchObject({ verdict: "spurious", retrySuggested: true });
    expect(text(b)).toContain(`or say !binder retry ${s.id}`);
  });

  it("a missing chart version whose pin cannot be read at the run's commit", async () => {
    const r = run(10);
    job(r, "deploy", HELM2_LOG);
    await start();
    const a = await say(app, `!binder why ${r.id}`);
    expect(a?.data).toMatchObject({ verdict: "legitimate", chart: { chart: "binderhub", version: null } });
    expect(text(a)).toContain(`I could not read which version of binderhub was pinned at ${r.head_sha.slice(0, 7)}.`);
  });
});
