import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import type { Reply } from "../src/core/reply.ts";
import { type FakeGitHub, type FakeRun, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";

const DEPLOY = "jupyterhub/mybinder.org-deploy";

/** A GitHub Actions log: every line with the runner's timestamp. */
function ghaLog(lines: string[], start = Date.parse("2024-10-24T10:00:00Z")): string {
  return `${lines.map((l, i) => `${new Date(start + i * 1000).toISOString().replace("Z", "0000Z")} ${l}`).join("\n")}\n`;
}

const SETUP = ["##[group]Run actions/checkout@v4", "Syncing repository: jupyterhub/mybinder.org-deploy", "##[endgroup]"];
const WAIT_TIMEOUT = "Error: UPGRADE FAILED: timed out waiting for the condition";
const SPURIOUS_LOG = ghaLog([
  ...SETUP,
  "##[group]Run python deploy.py staging",
  'Release "staging" does not exist. Installing it now.',
  WAIT_TIMEOUT,
  "Traceback (most recent call last):",
  '  File "deploy.py", line 12, in <module>',
  "subprocess.CalledProcessError: Command '['helm', 'upgrade']' returned non-zero exit status 1.",
  "##[error]Process completed with exit code 1.",
]);
const MISSING_CHART = `Error: can't get a valid version for 1 subchart(s): "binderhub" (repository "https://jupyterhub.github.io/helm-chart/", version "1.0.0-0.dev.git.3506.hba24eb2a")`;
const LEGIT_LOG = ghaLog([
  ...SETUP,
  "##[group]Run python deploy.py staging",
  "Hang tight while we grab the latest from your chart repositories...",
  MISSING_CHART,
  "##[error]Process completed with exit code 1.",
]);

function lineOf(log: string, needle: string): number {
  return log.split("\n").findIndex((l) => l.includes(needle)) + 1;
}

function text(r: Reply | null): string {
  return r ? renderPlain(r) : "";
}

describe("!binder why on GitHub Actions, end to end against a fake GitHub", () => {
  let gh: FakeGitHub;
  let app: App;
  let clock = Date.parse("2024-10-24T12:00:00Z");
  const at = (min: number) => new Date(Date.parse("2024-10-24T10:00:00Z") + min * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");

  async function start(extra = ""): Promise<void> {
    app = await testApp(chartBotYaml({ githubUrl: gh.url, extra }), { now: () => new Date(clock) });
  }

  function failedRun(min: number, log: string, patch: Partial<FakeRun> = {}): FakeRun {
    const run = gh.addRun(DEPLOY, { conclusion: "failure", created_at: at(min), ...patch });
    gh.addJob(run.id, { name: "staging-deploy", conclusion: "success", log: "fine\n" });
    gh.addJob(run.id, {
      name: "deploy (staging)",
      conclusion: "failure",
      log,
      steps: [
        { name: "Set up job", status: "completed", conclusion: "success", number: 1, started_at: null, completed_at: null },
        { name: "Deploy staging", status: "completed", conclusion: "failure", number: 4, started_at: null, completed_at: null },
      ],
    });
    return run;
  }

  function okRun(min: number, patch: Partial<FakeRun> = {}): FakeRun {
    const run = gh.addRun(DEPLOY, { conclusion: "success", created_at: at(min), ...patch });
    gh.addJob(run.id, { name: "deploy (staging)", conclusion: "success", log: "ok\n" });
    return run;
  }

  beforeEach(async () => {
    clock = Date.parse("2024-10-24T12:00:00Z");
    gh = await startFakeGitHub({ now: () => new Date(clock) });
    gh.setRepo(DEPLOY);
  });
  afterEach(async () => {
    await app?.close();
    await gh.close();
  });

  it("`why` diagnoses the latest failed run of cd.yml on main: spurious, decisive line, step, job link, re-run advice", async () => {
    okRun(0);
    const failed = failedRun(10, SPURIOUS_LOG);
    // newer runs that must not be picked: another workflow, another branch
    failedRun(20, LEGIT_LOG, { workflow: "test.yml", name: "Tests" });
    failedRun(21, LEGIT_LOG, { head_branch: "some-pr" });
    okRun(30);
    await start();
    const r = await say(app, "!binder why");
    const t = text(r);
    expect(r?.ok, t).toBe(true);
    expect(r?.data).toMatchObject({
      runId: String(failed.id),
      runUrl: `https://github.com/${DEPLOY}/actions/runs/${failed.id}`,
      verdict: "spurious",
      signature: "H13",
      line: lineOf(SPURIOUS_LOG, WAIT_TIMEOUT),
      lineExact: true,
      text: WAIT_TIMEOUT,
      job: { name: "deploy (staging)" },
      step: "Deploy staging", // the step GitHub reports as failed, not the log group's command line
      retrySuggested: true,
      streak: 1,
    });
    expect(String(r?.data?.step)).toMatch(/deploy\.py staging|Deploy staging/);
    expect(t).toContain("spurious");
    expect(t).toContain(`line ${lineOf(SPURIOUS_LOG, WAIT_TIMEOUT)}`);
    expect(t).toContain(WAIT_TIMEOUT);
    expect(t).toMatch(/re-run the failed jobs/);
    expect(t).toContain(`/actions/runs/${failed.id}/job/`);
    expect(t).toContain(`!binder retry ${failed.id}`); // the retry command exists and re-runs exactly this run
    // the log was fetched through the signed URL, without the API token
    const signed = gh.requestsTo(/^\/_signed\/job-logs\//);
    expect(signed.length).toBeGreaterThan(0);
    expect(signed.every((q) => !q.auth)).toBe(true);
  });

  it("a legitimate failure says what to fix and never suggests a re-run", async () => {
    const run = failedRun(10, LEGIT_LOG);
    await start();
    const r = await say(app, `!binder why ${run.id}`);
    const t = text(r);
    expect(r?.data).toMatchObject({ verdict: "legitimate", line: lineOf(LEGIT_LOG, MISSING_CHART), retrySuggested: false });
    expect(r?.data?.chart).toMatchObject({ chart: "binderhub", version: "1.0.0-0.dev.git.3506.hba24eb2a" });
    expect(t).not.toMatch(/re-run the failed jobs|retry/i);
  });

  it("`why <run URL>` and `why <job URL>` read that run (and that job)", async () => {
    const run = failedRun(10, SPURIOUS_LOG);
    await start();
    const byUrl = await say(app, `!binder why https://github.com/${DEPLOY}/actions/runs/${run.id}`);
    expect(byUrl?.data).toMatchObject({ runId: String(run.id), verdict: "spurious" });
    const job = gh.requestsTo(`/repos/${DEPLOY}/actions/runs/${run.id}/jobs`).length;
    expect(job).toBeGreaterThan(0);
    const other = await say(app, `!binder why https://github.com/someone/else/actions/runs/${run.id}`);
    expect(other?.ok).toBe(false);
    expect(other?.error).toMatch(/someone\/else/);
  });

  it("`why #254` diagnoses the runs of the PR's commits (head, and the merge commit once merged)", async () => {
    const head = "a".repeat(40);
    const merge = "b".repeat(40);
    gh.setPull(DEPLOY, 254, { head: { sha: head, ref: "bump" } });
    okRun(5, { head_sha: head, head_branch: "bump", event: "pull_request", workflow: "test.yml", name: "Tests" });
    await start();
    const notFailed = await say(app, "!binder why #254");
    expect(notFailed?.ok).toBe(true);
    expect(notFailed?.data).toMatchObject({ pr: 254, verdict: "success" });

    gh.mergePull(DEPLOY, 254, merge);
    const run = failedRun(10, LEGIT_LOG, { head_sha: merge });
    const r = await say(app, "why did #254 fail?", { addressed: true });
    expect(r?.command).toBe("why");
    expect(r?.data).toMatchObject({ pr: 254, runId: String(run.id), verdict: "legitimate", sha: merge });
    expect(gh.requestsTo(`/repos/${DEPLOY}/pulls/254`).length).toBeGreaterThan(0);
  });

  it("reads only the end of a log bigger than deploy.logMaxBytes, with the exact line number", async () => {
    const filler = Array.from({ length: 40_000 }, (_, i) => `helm: step ${i} ${"·".repeat(30)}`);
    const big = ghaLog([
      ...SETUP,
      "##[group]Run python deploy.py staging",
      ...filler,
      WAIT_TIMEOUT,
      "##[error]Process completed with exit code 1.",
    ]);
    expect(big.length).toBeGreaterThan(2_000_000);
    const run = failedRun(10, big);
    await start("  logMaxBytes: 65536");
    const r = await say(app, `!binder why ${run.id}`);
    expect(r?.data).toMatchObject({
      verdict: "spurious",
      signature: "H13",
      truncated: true,
      line: lineOf(big, WAIT_TIMEOUT),
      lineExact: true,
    });
    expect(text(r)).toMatch(/I read its last 64 kB/);
  });

  it("the same spurious cause on runs in a row is no longer 'just retry'; a success in between ends the streak", async () => {
    failedRun(10, SPURIOUS_LOG);
    failedRun(20, SPURIOUS_LOG);
    const third = failedRun(30, SPURIOUS_LOG);
    await start();
    const r = await say(app, "!binder why");
    const t = text(r);
    expect(r?.data).toMatchObject({
      runId: String(third.id),
      verdict: "spurious",
      streak: 3,
      repeated: true,
      retrySuggested: false,
    });
    expect(t).toMatch(/3rd run in a row/);
    expect(t).toMatch(/do not just re-run/);
    expect(t).not.toMatch(/re-run the failed jobs/);

    okRun(40);
    const fourth = failedRun(50, SPURIOUS_LOG);
    const again = await say(app, "!binder why");
    expect(again?.data).toMatchObject({ runId: String(fourth.id), streak: 1, retrySuggested: true });
  });

  it("--stats counts failures per signature over the last N runs, and the unclassified", async () => {
    okRun(1);
    failedRun(2, SPURIOUS_LOG);
    failedRun(3, LEGIT_LOG);
    failedRun(
      4,
      ghaLog([
        "##[group]Run something odd",
        "the flux capacitor is out of alignment",
        "##[error]Process completed with exit code 3.",
      ]),
    );
    failedRun(5, SPURIOUS_LOG);
    okRun(6);
    await start();
    const r = await say(app, "!binder why --stats --last 5");
    const t = text(r);
    expect(r?.ok, t).toBe(true);
    expect(r?.data).toMatchObject({ runs: 5, successes: 1, failures: 4, unclassified: 1 });
    const by = r?.data?.bySignature as Array<{ signature: string; count: number }>;
    expect(by.find((b) => b.signature === "H13")?.count).toBe(2);
    expect(by.reduce((n, b) => n + b.count, 0)).toBe(3);
    expect(t).toMatch(/Unclassified: 1/);
    // the verdicts were kept: asking again reads no more logs
    const before = gh.requestsTo(/\/logs$/).length;
    await say(app, "!binder why --stats --last 5");
    expect(gh.requestsTo(/\/logs$/).length).toBe(before);
  });

  it("plain questions reach why", async () => {
    failedRun(10, SPURIOUS_LOG);
    await start();
    for (const q of ["why did the deploy fail?", "was that failure spurious?", "why did the last build fail"]) {
      const r = await say(app, q, { addressed: true });
      expect(r?.command, q).toBe("why");
      expect(r?.data?.verdict, q).toBe("spurious");
    }
  });

  describe("errors are one clear line", () => {
    it("no failed run", async () => {
      okRun(1);
      await start();
      const r = await say(app, "!binder why");
      expect(r?.ok).toBe(false);
      expect(r?.error).toMatch(/^No failed run found/);
    });
    it("run not found", async () => {
      await start();
      const r = await say(app, "!binder why 123456789");
      expect(r?.ok).toBe(false);
      expect(r?.error).toMatch(/no run 123456789/);
    });
    it("logs expired", async () => {
      const run = failedRun(10, SPURIOUS_LOG);
      for (const q of gh.requestsTo("/x")) void q;
      // the failed job's log is gone
      const jobs = (await (await fetch(`${gh.url}/repos/${DEPLOY}/actions/runs/${run.id}/jobs`)).json()) as { jobs: unknown };
      const failedJob = (jobs.jobs as Array<{ id: number; conclusion: string }>).find((j) => j.conclusion === "failure");
      gh.updateJob(failedJob?.id as number, { log: null });
      await start();
      const r = await say(app, `!binder why ${run.id}`);
      expect(r?.ok).toBe(false);
      expect(r?.error).toMatch(/logs of .* are unavailable.*expired/);
      expect(r?.error).not.toContain("\n");
    });
    it("a PR with no runs, and a PR that does not exist", async () => {
      gh.setPull(DEPLOY, 300, { head: { sha: "c".repeat(40) } });
      await start();
      const r = await say(app, "!binder why #300");
      expect(r?.error).toMatch(/#300 has no GitHub Actions runs/);
      const none = await say(app, "!binder why #301");
      expect(none?.error).toMatch(/has no pull request #301/);
    });
    it("GitHub rate limit", async () => {
      failedRun(10, SPURIOUS_LOG);
      await start();
      gh.rateLimitNext("primary", { resetInS: 3600, times: 5 });
      const r = await say(app, "!binder why");
      expect(r?.ok).toBe(false);
      expect(r?.error).toMatch(/GitHub refused .*403/);
    });
    it("bad input", async () => {
      await start();
      const r = await say(app, "!binder why banana");
      expect(r?.error).toMatch(/not a PR \(#254\), a run URL or a run id/);
      const s = await say(app, "!binder why --last 3");
      expect(s?.error).toMatch(/--last goes with --stats/);
    });
  });
});
