import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOctokit, githubClient, githubErrorLine, isNotModified, type Octokit } from "../src/github/client.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { silentLogger } from "./helpers/log.ts";

const REPO = { owner: "jupyterhub", repo: "binderhub" };
const FULL = "jupyterhub/binderhub";
const TOKEN = "ghp_secretTOKEN1234567890";

/** A pino logger whose lines are kept, to check what is (not) logged. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: "trace" }, stream), lines };
}

let gh: FakeGitHub;
let octokit: Octokit;

beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.setRepo(FULL, { default_branch: "main" });
  octokit = createOctokit({ apiUrl: gh.url, log: silentLogger(), retryBaseMs: 5 });
});
afterEach(async () => {
  await gh.close();
});

describe("createOctokit against the fake GitHub", () => {
  it("reads a repository's default branch", async () => {
    gh.setRepo("jupyterhub/mybinder.org-deploy", { default_branch: "master" });
    const { data } = await octokit.repos.get({ owner: "jupyterhub", repo: "mybinder.org-deploy" });
    expect(data.default_branch).toBe("master");
    expect(data.full_name).toBe("jupyterhub/mybinder.org-deploy");
  });

  it("pulls.get: merged PR with its merge commit; an open PR is not merged although it has a test-merge sha", async () => {
    gh.setPull(FULL, 395, {
      title: "Add more eventlog",
      head: { sha: "441f5ea545d02ef9e3d0d66e5cd1aac8ddc6ac7c", ref: "eventlog" },
    });
    gh.mergePull(FULL, 395, "4e3bafb0000000000000000000000000000000aa", new Date("2018-01-04T15:33:00Z"));
    const { data } = await octokit.pulls.get({ ...REPO, pull_number: 395 });
    expect(data).toMatchObject({
      number: 395,
      state: "closed",
      merged: true,
      merged_at: "2018-01-04T15:33:00Z",
      merge_commit_sha: "4e3bafb0000000000000000000000000000000aa",
      title: "Add more eventlog",
      html_url: "https://github.com/jupyterhub/binderhub/pull/395",
    });
    expect(data.head.sha).toBe("441f5ea545d02ef9e3d0d66e5cd1aac8ddc6ac7c");
    expect(data.head.ref).toBe("eventlog");
    expect(data.base.ref).toBe("main");

    gh.setPull(FULL, 400);
    const open = (await octokit.pulls.get({ ...REPO, pull_number: 400 })).data;
    expect(open.merged).toBe(false);
    expect(open.merged_at).toBeNull();
    expect(open.merge_commit_sha).toMatch(/^[0-9a-f]{40}$/); // as on GitHub: do not trust it alone
  });

  it("repos.getContent: base64 content at a ref, blob sha, 404 for a missing file", async () => {
    const chart = 'dependencies:\n  - name: binderhub\n    version: "1.0.0-0.dev.git.3506.hba24eb2a"\n';
    gh.setFile("jupyterhub/mybinder.org-deploy", "mybinder/Chart.yaml", chart);
    gh.setFile("jupyterhub/mybinder.org-deploy", "mybinder/Chart.yaml", "old\n", "abc1234");
    const { data } = await octokit.repos.getContent({
      owner: "jupyterhub",
      repo: "mybinder.org-deploy",
      path: "mybinder/Chart.yaml",
    });
    if (Array.isArray(data) || data.type !== "file") throw new Error("expected a file");
    expect(Buffer.from(data.content, "base64").toString("utf8")).toBe(chart);
    expect(data.sha).toMatch(/^[0-9a-f]{40}$/);
    const old = (
      await octokit.repos.getContent({
        owner: "jupyterhub",
        repo: "mybinder.org-deploy",
        path: "mybinder/Chart.yaml",
        ref: "abc1234",
      })
    ).data;
    if (Array.isArray(old) || old.type !== "file") throw new Error("expected a file");
    expect(Buffer.from(old.content, "base64").toString()).toBe("old\n");

    const err = await octokit.repos.getContent({ ...REPO, path: "nope.yaml" }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(404);
    expect(githubErrorLine(err, "nope.yaml in jupyterhub/binderhub")).toBe("GitHub: nope.yaml in jupyterhub/binderhub not found");
  });

  it("repos.getCommit resolves a branch or an abbreviated sha; unknown ref is GitHub's 422", async () => {
    const sha = "687657bb2f4a03b5b6d8f23bdf5ac1b0e4d2c9a1";
    gh.setCommit(FULL, "main", sha, { parents: ["a".repeat(40), "b".repeat(40)] });
    expect((await octokit.repos.getCommit({ ...REPO, ref: "main" })).data.sha).toBe(sha);
    const short = (await octokit.repos.getCommit({ ...REPO, ref: "687657b" })).data;
    expect(short.sha).toBe(sha);
    expect(short.parents).toHaveLength(2);
    const err = await octokit.repos.getCommit({ ...REPO, ref: "nosuchbranch" }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(422);
  });

  it("conditional GET: a repeated request with the ETag is a 304 that Octokit throws, isNotModified says so", async () => {
    gh.setPull(FULL, 1);
    const first = await octokit.pulls.get({ ...REPO, pull_number: 1 });
    const etag = first.headers.etag;
    expect(etag).toBeTruthy();
    const err = await octokit.pulls.get({ ...REPO, pull_number: 1, headers: { "if-none-match": etag } }).catch((e: unknown) => e);
    expect(isNotModified(err)).toBe(true);
    expect(isNotModified(new Error("x"))).toBe(false);
    gh.setPull(FULL, 1, { title: "changed" });
    const again = await octokit.pulls.get({ ...REPO, pull_number: 1, headers: { "if-none-match": etag } });
    expect(again.data.title).toBe("changed");
  });

  it("404 on an unknown PR becomes one clear line", async () => {
    const err = await octokit.pulls.get({ ...REPO, pull_number: 99999 }).catch((e: unknown) => e);
    expect(githubErrorLine(err, "PR #99999 of jupyterhub/binderhub")).toBe("GitHub: PR #99999 of jupyterhub/binderhub not found");
    expect(githubErrorLine(err)).toBe("GitHub: /repos/jupyterhub/binderhub/pulls/99999 not found");
  });

  it("retries a 502 and a dropped connection, then succeeds", async () => {
    gh.setPull(FULL, 7);
    gh.failNext("/repos/jupyterhub/binderhub/pulls/7", 502);
    gh.failNext("/repos/jupyterhub/binderhub/pulls/7", "close");
    const { data } = await octokit.pulls.get({ ...REPO, pull_number: 7 });
    expect(data.number).toBe(7);
    expect(gh.requestsTo("/repos/jupyterhub/binderhub/pulls/7")).toHaveLength(3);
  });

  it("gives up on a persistent 5xx with one line", async () => {
    gh.failNext("/repos/jupyterhub/binderhub", 503, { times: 5 });
    const err = await octokit.repos.get(REPO).catch((e: unknown) => e);
    expect(githubErrorLine(err)).toBe("GitHub is having trouble (503); try again later");
    expect(gh.requestsTo("/repos/jupyterhub/binderhub")).toHaveLength(3); // 1 + 2 retries
  });

  it("primary rate limit (403, remaining 0) with a reset due now is retried once and succeeds", async () => {
    gh.setPull(FULL, 8);
    gh.rateLimitNext("primary", { resetInS: 0 });
    const { data } = await octokit.pulls.get({ ...REPO, pull_number: 8 });
    expect(data.number).toBe(8);
    expect(gh.requests.map((r) => r.status)).toEqual([403, 200]);
  });

  it("secondary rate limit and 429 with retry-after are retried", async () => {
    gh.setPull(FULL, 9);
    gh.rateLimitNext("secondary", { retryAfterS: 1 });
    expect((await octokit.pulls.get({ ...REPO, pull_number: 9 })).data.number).toBe(9);
    gh.rateLimitNext("429", { retryAfterS: 1 });
    expect((await octokit.pulls.get({ ...REPO, pull_number: 9 })).data.number).toBe(9);
    expect(gh.requests.map((r) => r.status)).toEqual([403, 200, 429, 200]);
  });

  it("a rate limit that resets in an hour is not waited for: one clear line with the reset time", async () => {
    gh.rateLimitNext("primary", { resetInS: 3600, times: 3 });
    const err = await octokit.repos.get(REPO).catch((e: unknown) => e);
    const line = githubErrorLine(err);
    expect(line).toMatch(/^GitHub API rate limit exhausted; it resets at \d\d:\d\d UTC \(in (59|60|61) min\)$/);
    expect(gh.requests).toHaveLength(1);
  });

  it("a rate limit hit twice is retried at most once", async () => {
    gh.rateLimitNext("primary", { resetInS: 0, times: 3 });
    const err = await octokit.repos.get(REPO).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(403);
    expect(gh.requests).toHaveLength(2);
  });

  it("network failure → 'GitHub unreachable (…)', no stack", async () => {
    const closed = await startFakeGitHub();
    const deadUrl = closed.url;
    await closed.close(); // nothing listens on that port any more
    const dead = createOctokit({ apiUrl: deadUrl, log: silentLogger(), retryBaseMs: 1, retries: 0 });
    const err = await dead.repos.get(REPO).catch((e: unknown) => e);
    const line = githubErrorLine(err);
    expect(line).toMatch(/^GitHub unreachable \(.*ECONNREFUSED.*\)$/);
    expect(line).not.toContain("\n");
  });

  it("a refused connection is answered at once: one request, no retries, one wording", async () => {
    const closed = await startFakeGitHub();
    const deadUrl = closed.url;
    await closed.close();
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    // retries: 2 and a base of 10 s: a retried request would take 10+ s and make 3 calls.
    const dead = createOctokit({ apiUrl: deadUrl, log: silentLogger(), retryBaseMs: 10_000, retries: 2, fetch: counting });
    const err = await dead.repos.get(REPO).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(githubErrorLine(err)).toMatch(/^GitHub unreachable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
  });

  it("a name that does not resolve is not retried either", async () => {
    let calls = 0;
    // What undici throws when DNS fails: TypeError('fetch failed') caused by getaddrinfo ENOTFOUND.
    const noDns: typeof fetch = async () => {
      calls++;
      const cause = Object.assign(new Error("getaddrinfo ENOTFOUND api.github.invalid"), { code: "ENOTFOUND" });
      throw new TypeError("fetch failed", { cause });
    };
    const o = createOctokit({ apiUrl: "https://api.github.invalid", log: silentLogger(), retryBaseMs: 10_000, fetch: noDns });
    const err = await o.repos.get(REPO).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(githubErrorLine(err)).toBe("GitHub unreachable (getaddrinfo ENOTFOUND api.github.invalid)");
  });

  it("a request that times out is still retried", async () => {
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    try {
      const slow = createOctokit({
        apiUrl: url,
        log: silentLogger(),
        retryBaseMs: 1,
        retries: 2,
        timeoutMs: 50,
        fetch: counting,
      });
      const err = await slow.repos.get(REPO).catch((e: unknown) => e);
      expect(calls).toBe(3);
      expect(githubErrorLine(err)).toBe("GitHub did not answer in time"); // the wording of the pin that was not waited for
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it("sends the token, never logs it; 401 is an auth line", async () => {
    await gh.close();
    gh = await startFakeGitHub({ token: TOKEN });
    gh.setRepo(FULL);
    gh.setPull(FULL, 5);
    const { log, lines } = capturingLogger();
    const authed = createOctokit({ apiUrl: gh.url, token: TOKEN, log, retryBaseMs: 1 });
    expect((await authed.pulls.get({ ...REPO, pull_number: 5 })).data.number).toBe(5);
    gh.rateLimitNext("primary", { resetInS: 0 });
    await authed.pulls.get({ ...REPO, pull_number: 5 });
    // The config's github: section makes the same client (the bot's one path to an Octokit).
    const wrong = githubClient({ apiUrl: `${gh.url}/`, token: "ghp_wrong" }, { log, retryBaseMs: 1 });
    const err = await wrong.pulls.get({ ...REPO, pull_number: 5 }).catch((e: unknown) => e);
    expect(githubErrorLine(err)).toBe("GitHub: authentication failed (401); check github.token");
    expect(lines.join("")).toContain("rate limit"); // the rate-limit warning was logged…
    expect(lines.join("")).not.toContain(TOKEN); // …without the token
    expect(JSON.stringify(err)).not.toContain("ghp_wrong");
    expect(gh.requests.every((r) => r.auth)).toBe(true);
  });
});

describe("GitHub Actions on the fake", () => {
  it("lists runs by head_sha/branch/status, jobs with steps, follows the log redirect, re-runs", async () => {
    const deploy = { owner: "jupyterhub", repo: "mybinder.org-deploy" };
    const full = "jupyterhub/mybinder.org-deploy";
    const sha = "c0ffee0000000000000000000000000000000001";
    const run = gh.addRun(full, { head_sha: sha, status: "completed", conclusion: "failure", workflow: "cd.yml" });
    gh.addRun(full, { head_sha: "d".repeat(40), head_branch: "other", conclusion: "success", workflow: "test.yml" });
    const job = gh.addJob(run.id, {
      name: "deploy (prod)",
      conclusion: "failure",
      steps: [
        { name: "Set up job", status: "completed", conclusion: "success", number: 1, started_at: null, completed_at: null },
        { name: "Deploy", status: "completed", conclusion: "failure", number: 2, started_at: null, completed_at: null },
      ],
      log: "2024-10-24T10:00:00Z Error: UPGRADE FAILED: timed out waiting for the condition\n",
    });

    const runs = (await octokit.actions.listWorkflowRunsForRepo({ ...deploy, head_sha: sha, per_page: 10 })).data;
    expect(runs.total_count).toBe(1);
    expect(runs.workflow_runs[0]).toMatchObject({
      id: run.id,
      head_sha: sha,
      conclusion: "failure",
      path: ".github/workflows/cd.yml",
    });
    expect((await octokit.actions.listWorkflowRunsForRepo({ ...deploy, status: "failure" })).data.total_count).toBe(1);
    expect(
      (await octokit.actions.listWorkflowRunsForRepo({ ...deploy, branch: "other" })).data.workflow_runs[0]?.head_branch,
    ).toBe("other");
    expect((await octokit.actions.listWorkflowRuns({ ...deploy, workflow_id: "cd.yml" })).data.total_count).toBe(1);
    expect((await octokit.actions.getWorkflowRun({ ...deploy, run_id: run.id })).data.run_attempt).toBe(1);

    const jobs = (await octokit.actions.listJobsForWorkflowRun({ ...deploy, run_id: run.id })).data.jobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.steps?.find((s) => s.conclusion === "failure")?.name).toBe("Deploy");

    const logRes = await octokit.actions.downloadJobLogsForWorkflowRun({ ...deploy, job_id: job.id });
    expect(String(logRes.data)).toContain("UPGRADE FAILED");
    expect(gh.requests.some((r) => r.path.startsWith("/_signed/job-logs/"))).toBe(true);

    const rr = await octokit.actions.reRunWorkflowFailedJobs({ ...deploy, run_id: run.id });
    expect(rr.status).toBe(201);
    expect(gh.reruns).toEqual([expect.objectContaining({ runId: run.id, kind: "failed" })]);
    expect((await octokit.actions.getWorkflowRun({ ...deploy, run_id: run.id })).data).toMatchObject({
      run_attempt: 2,
      status: "queued",
    });
  });

  it("re-run of a run older than 30 days is 403 with GitHub's message; signed log URLs expire", async () => {
    let t = new Date("2024-10-24T12:00:00Z");
    await gh.close();
    gh = await startFakeGitHub({ now: () => t, logUrlTtlMs: 60_000 });
    const o = createOctokit({ apiUrl: gh.url, log: silentLogger(), retryBaseMs: 1 });
    const full = "jupyterhub/mybinder.org-deploy";
    const deploy = { owner: "jupyterhub", repo: "mybinder.org-deploy" };
    const old = gh.addRun(full, { conclusion: "failure", created_at: "2024-09-01T00:00:00Z" });
    const err = await o.actions.reRunWorkflow({ ...deploy, run_id: old.id }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(403);
    expect(githubErrorLine(err)).toContain("created over a month ago");
    expect(gh.reruns).toHaveLength(0);

    const job = gh.addJob(old.id, { log: "hello\n" });
    const res = await fetch(`${gh.url}/repos/${full}/actions/jobs/${job.id}/logs`, { redirect: "manual" });
    expect(res.status).toBe(302);
    const signed = res.headers.get("location")!;
    expect((await fetch(signed)).status).toBe(200);
    t = new Date(t.getTime() + 61_000);
    expect((await fetch(signed)).status).toBe(403);
  });
});
