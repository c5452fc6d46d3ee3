import { describe, expect, it } from "vitest";
import { createOctokit } from "../src/github/client.ts";
import { startFakeGitHub } from "./fakes/github.ts";
import { startIndexServer } from "./fakes/index-server.ts";
import { silentLogger } from "./helpers/log.ts";

describe("fake index server speaks HTTP caching like GitHub Pages", () => {
  it("ETag and Last-Modified 304s, a new body gets new validators, forced failures", async () => {
    const s = await startIndexServer({ body: "entries: {}\n" });
    try {
      const r1 = await fetch(s.url);
      expect(r1.status).toBe(200);
      expect(await r1.text()).toBe("entries: {}\n");
      const etag = r1.headers.get("etag")!;
      const lm = r1.headers.get("last-modified")!;
      expect((await fetch(s.url, { headers: { "if-none-match": etag } })).status).toBe(304);
      expect((await fetch(s.url, { headers: { "if-modified-since": lm } })).status).toBe(304);
      expect(s.notModified).toBe(2);

      s.setBody("entries:\n  c: []\n");
      const r2 = await fetch(s.url, { headers: { "if-none-match": etag, "if-modified-since": lm } });
      expect(r2.status).toBe(200);
      expect(r2.headers.get("etag")).not.toBe(etag);
      expect(Date.parse(r2.headers.get("last-modified")!)).toBeGreaterThan(Date.parse(lm));
      await r2.text();

      s.failNext(404);
      expect((await fetch(s.url)).status).toBe(404);
      s.failNext("close");
      await expect(fetch(s.url)).rejects.toThrow();
      expect((await fetch(s.url.replace("index.yaml", "other"))).status).toBe(404);
      expect(s.requests).toBe(6);
    } finally {
      await s.close();
    }
  });

  it("a body function is read on each request", async () => {
    let n = 0;
    const s = await startIndexServer({ body: () => `n: ${n}\n` });
    try {
      expect(await (await fetch(s.url)).text()).toBe("n: 0\n");
      n = 1;
      expect(await (await fetch(s.url)).text()).toBe("n: 1\n");
    } finally {
      await s.close();
    }
  });
});

describe("fake GitHub lists page like GitHub", () => {
  it("per_page/page with a Link header that octokit.paginate follows; filter=all for jobs of every attempt", async () => {
    const gh = await startFakeGitHub();
    try {
      const full = "jupyterhub/mybinder.org-deploy";
      for (let i = 0; i < 7; i++) gh.addRun(full, { created_at: `2024-10-0${i + 1}T00:00:00Z` });
      const o = createOctokit({ apiUrl: gh.url, log: silentLogger(), retryBaseMs: 1 });
      const page1 = await o.actions.listWorkflowRunsForRepo({ owner: "jupyterhub", repo: "mybinder.org-deploy", per_page: 3 });
      expect(page1.data.total_count).toBe(7);
      expect(page1.data.workflow_runs.map((r) => r.created_at)).toEqual([
        "2024-10-07T00:00:00Z",
        "2024-10-06T00:00:00Z",
        "2024-10-05T00:00:00Z",
      ]);
      expect(page1.headers.link).toContain('rel="next"');
      const all = await o.paginate(o.actions.listWorkflowRunsForRepo, {
        owner: "jupyterhub",
        repo: "mybinder.org-deploy",
        per_page: 3,
      });
      expect(all).toHaveLength(7);

      const run = gh.addRun(full, { conclusion: "failure" });
      gh.addJob(run.id, { conclusion: "failure" });
      await o.actions.reRunWorkflowFailedJobs({ owner: "jupyterhub", repo: "mybinder.org-deploy", run_id: run.id });
      gh.addJob(run.id, { status: "in_progress", conclusion: null, completed_at: null });
      const latest = await o.actions.listJobsForWorkflowRun({ owner: "jupyterhub", repo: "mybinder.org-deploy", run_id: run.id });
      expect(latest.data.jobs.map((j) => j.run_attempt)).toEqual([2]);
      const every = await o.actions.listJobsForWorkflowRun({
        owner: "jupyterhub",
        repo: "mybinder.org-deploy",
        run_id: run.id,
        filter: "all",
      });
      expect(every.data.jobs.map((j) => j.run_attempt)).toEqual([1, 2]);
      // re-running a run that is still going is refused
      const err = await o.actions
        .reRunWorkflow({ owner: "jupyterhub", repo: "mybinder.org-deploy", run_id: run.id })
        .catch((e: unknown) => e);
      expect((err as { status: number }).status).toBe(403);
    } finally {
      await gh.close();
    }
  });
});
