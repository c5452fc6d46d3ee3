import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitHubActionsProvider } from "../src/ci/github-actions.ts";
import { type HistoryEntry, VerdictHistory } from "../src/ci/history.ts";
import { CiError, fetchLogTail, readTail } from "../src/ci/provider.ts";
import { createOctokit } from "../src/github/client.ts";
import { openStore } from "../src/store/store.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { silentLogger } from "./helpers/log.ts";

const DEPLOY = "jupyterhub/mybinder.org-deploy";

describe("GitHub Actions provider against the fake GitHub, with the real Octokit", () => {
  let gh: FakeGitHub;
  let ci: GitHubActionsProvider;
  beforeEach(async () => {
    gh = await startFakeGitHub();
    gh.setRepo(DEPLOY);
    ci = new GitHubActionsProvider(createOctokit({ apiUrl: gh.url, log: silentLogger(), retries: 0, retryBaseMs: 1 }), DEPLOY);
  });
  afterEach(async () => gh.close());

  it("lists runs of a workflow on a branch, newest first, with the workflow file", async () => {
    gh.addRun(DEPLOY, { conclusion: "success", created_at: "2024-10-24T10:00:00Z" });
    const f = gh.addRun(DEPLOY, { conclusion: "failure", created_at: "2024-10-24T11:00:00Z" });
    gh.addRun(DEPLOY, { conclusion: "failure", created_at: "2024-10-24T12:00:00Z", workflow: "other.yml" });
    gh.addRun(DEPLOY, { status: "in_progress", conclusion: null, created_at: "2024-10-24T13:00:00Z" });
    const runs = await ci.recentRuns("cd.yml", "main", 10);
    expect(runs.map((r) => r.conclusion)).toEqual(["failure", "success"]);
    expect(runs[0]?.workflow).toBe("cd.yml");
    expect((await ci.latestFailedRun("cd.yml", "main"))?.id).toBe(String(f.id));
  });

  it("resolves a short sha before filtering runs by head_sha", async () => {
    const sha = "ab".repeat(20);
    gh.setCommit(DEPLOY, sha.slice(0, 7), sha);
    const run = gh.addRun(DEPLOY, { head_sha: sha, conclusion: "failure" });
    expect((await ci.runsForCommit(sha.slice(0, 7))).map((r) => r.id)).toEqual([String(run.id)]);
  });

  it("follows the signed log redirect; the storage URL never sees the token", async () => {
    const authed = new GitHubActionsProvider(
      createOctokit({ apiUrl: gh.url, log: silentLogger(), token: "ghp_secret", retries: 0, retryBaseMs: 1 }),
      DEPLOY,
    );
    const run = gh.addRun(DEPLOY, { conclusion: "failure" });
    gh.addJob(run.id, { conclusion: "failure", log: "a\nb\nc\n" });
    const [job] = await authed.failedJobs(await authed.run(String(run.id)));
    const log = await authed.jobLog(job as never, { maxBytes: 1000 });
    expect(log.text).toBe("a\nb\nc\n");
    expect(gh.requestsTo(/\/actions\/jobs\/\d+\/logs$/).every((q) => q.auth)).toBe(true);
    expect(gh.requestsTo(/^\/_signed\//).every((q) => !q.auth)).toBe(true);
  });

  it("re-runs the failed jobs of a run", async () => {
    const run = gh.addRun(DEPLOY, { conclusion: "failure", created_at: new Date().toISOString() });
    await ci.rerunFailed(await ci.run(`https://github.com/${DEPLOY}/actions/runs/${run.id}`));
    expect(gh.reruns).toMatchObject([{ runId: run.id, kind: "failed" }]);
  });

  it("maps failures to one clear line: not found, outage, unreachable", async () => {
    await expect(ci.run("42")).rejects.toMatchObject({ kind: "not-found" });
    gh.failNext(`/repos/${DEPLOY}/actions/workflows`, 502);
    await expect(ci.recentRuns("cd.yml", "main", 5)).rejects.toMatchObject({
      kind: "unreachable",
      message: expect.stringMatching(/HTTP 502/),
    });
    await expect(ci.run("not a url")).rejects.toMatchObject({ kind: "bad-input" });
    await gh.close();
    const e = (await ci.latestFailedRun("cd.yml", "main").catch((x: unknown) => x)) as CiError;
    expect(e).toBeInstanceOf(CiError);
    expect(e.kind).toBe("unreachable");
    expect(e.message).toMatch(/^GitHub unreachable \(.*ECONNREFUSED.*\) while reading/);
    gh = await startFakeGitHub(); // for afterEach
  });
});

describe("tail reads", () => {
  it("readTail keeps the last maxBytes whatever the chunking, and counts the lines it dropped", async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `L${i + 1}`);
    const text = `${lines.join("\n")}\n`;
    for (const chunk of [1, 7, 100, 4096]) {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          const b = Buffer.from(text);
          for (let i = 0; i < b.length; i += chunk) c.enqueue(b.subarray(i, i + chunk));
          c.close();
        },
      });
      const { buf, total, droppedLines } = await readTail(body, 300);
      expect(total).toBe(Buffer.byteLength(text));
      expect(buf.length).toBeLessThanOrEqual(300);
      const first = buf.toString().split("\n")[0];
      expect(first).toBe(`L${droppedLines + 1}`);
      expect(buf.toString().endsWith("L5000\n")).toBe(true);
    }
  });

  it("an empty log and a 416 are an empty text, not an error", async () => {
    const srv = createServer((req, res) => {
      if (req.url === "/empty") res.end("");
      else {
        res.writeHead(416);
        res.end();
      }
    });
    await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      expect((await fetchLogTail(`${base}/empty`, 100, { what: "log" })).text).toBe("");
      expect((await fetchLogTail(`${base}/416`, 100, { what: "log" })).text).toBe("");
    } finally {
      srv.close();
    }
  });
});

describe("verdict history", () => {
  const entry = (
    runId: string,
    min: number,
    signature: string | null,
    verdict: HistoryEntry["verdict"] = signature ? "spurious" : "success",
  ): HistoryEntry => ({
    runId,
    runUrl: `u/${runId}`,
    sha: "s",
    branch: "main",
    workflow: "cd.yml",
    runAt: new Date(Date.UTC(2024, 0, 1, 0, min)).toISOString(),
    at: "2024-01-02T00:00:00Z",
    verdict,
    signature,
    title: signature,
  });

  it("orders by run time (not by when asked), replaces a re-diagnosed run, keeps at most the limit", async () => {
    const h = new VerdictHistory(await openStore("memory", "."), 10);
    await h.record(DEPLOY, entry("3", 30, "H13"));
    await h.record(DEPLOY, entry("1", 10, "H13"));
    await h.record(DEPLOY, entry("2", 20, "H13"));
    expect((await h.streak(DEPLOY, "3")).count).toBe(3);
    await h.record(DEPLOY, entry("2", 20, null)); // run 2 actually succeeded
    expect((await h.streak(DEPLOY, "3")).count).toBe(1);
    for (let i = 10; i < 30; i++) await h.record(DEPLOY, entry(String(i), 100 + i, "K01", "legitimate"));
    expect((await h.all(DEPLOY)).length).toBe(10);
  });

  it("another branch does not break or extend a streak; stats count signatures and the unclassified", async () => {
    const h = new VerdictHistory(await openStore("memory", "."));
    await h.record(DEPLOY, entry("1", 10, "H13"));
    await h.record(DEPLOY, { ...entry("2", 15, "K01", "legitimate"), branch: "other" });
    await h.record(DEPLOY, entry("3", 20, "H13"));
    await h.record(DEPLOY, entry("4", 25, null, "unknown"));
    expect((await h.streak(DEPLOY, "3")).count).toBe(2);
    const s = await h.stats(DEPLOY, 3, "main");
    expect(s).toMatchObject({ runs: 3, failures: 3, unclassified: 1, bySignature: [{ signature: "H13", count: 2 }] });
  });
});
