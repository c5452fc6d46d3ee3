import type { Octokit } from "@octokit/rest";
import { clip } from "../core/one-line.ts";
import { githubErrorLine, githubStatus } from "../github/client.ts";
import {
  CiError,
  type CiJob,
  type CiProvider,
  type CiRun,
  fetchLogTail,
  type JobLog,
  type PullInfo,
  type RunConclusion,
  readLogResponse,
} from "./provider.ts";

/** The parts of a workflow run / job this provider reads (a subset of the REST API's schema). */
interface GhRun {
  id: number;
  html_url: string;
  head_sha: string;
  head_branch: string | null;
  name?: string | null;
  path?: string | null;
  event: string;
  status: string | null;
  conclusion: string | null;
  created_at: string;
  run_number: number;
  run_attempt?: number;
  pull_requests?: Array<{ number: number }> | null;
}

interface GhJob {
  id: number;
  run_id: number;
  name: string;
  html_url: string | null;
  status: string;
  conclusion: string | null;
  steps?: Array<{ name: string; number: number; conclusion: string | null }>;
}

const RUN_URL = /^<?https?:\/\/[^/\s]+\/([\w.-]+)\/([\w.-]+)\/actions\/runs\/(\d+)(?:\/job\/(\d+))?(?:[/?#][^\s>]*)?>?$/i;

/** GitHub Actions: workflow runs, their jobs and logs, re-runs. The default provider (mybinder.org-deploy's cd.yml). */
export class GitHubActionsProvider implements CiProvider {
  readonly kind = "github-actions" as const;
  readonly #owner: string;
  readonly #name: string;

  constructor(
    private readonly octokit: Octokit,
    readonly repo: string,
    private readonly opts: { fetchImpl?: typeof fetch } = {},
  ) {
    const [owner, name] = repo.split("/") as [string, string];
    this.#owner = owner;
    this.#name = name;
  }

  async latestFailedRun(workflow: string, branch: string): Promise<CiRun | null> {
    const runs = await this.recentRuns(workflow, branch, 30);
    return runs.find((r) => r.conclusion === "failure") ?? null;
  }

  async recentRuns(workflow: string, branch: string, limit: number): Promise<CiRun[]> {
    const res = await this.#call("the workflow runs", () =>
      this.octokit.rest.actions.listWorkflowRuns({
        owner: this.#owner,
        repo: this.#name,
        workflow_id: workflow,
        branch,
        status: "completed",
        per_page: Math.min(100, Math.max(1, limit)),
      }),
    );
    return (res.data.workflow_runs as GhRun[])
      .map((r) => this.#run(r))
      .filter((r) => r.conclusion !== "running")
      .sort(newestFirst)
      .slice(0, limit);
  }

  async runsForCommit(sha: string, _hint?: { pr?: number }): Promise<CiRun[]> {
    let full = sha.toLowerCase();
    if (full.length < 40) {
      // head_sha filters on the full sha only.
      const c = await this.#call(`commit ${sha}`, () =>
        this.octokit.rest.repos.getCommit({ owner: this.#owner, repo: this.#name, ref: sha }),
      );
      full = c.data.sha;
    }
    const res = await this.#call("the workflow runs", () =>
      this.octokit.rest.actions.listWorkflowRunsForRepo({ owner: this.#owner, repo: this.#name, head_sha: full, per_page: 50 }),
    );
    return (res.data.workflow_runs as GhRun[])
      .filter((r) => r.head_sha === full)
      .map((r) => this.#run(r))
      .sort(newestFirst);
  }

  async run(idOrUrl: string): Promise<CiRun> {
    const id = this.#runId(idOrUrl);
    const res = await this.#call(`run ${id}`, () =>
      this.octokit.rest.actions.getWorkflowRun({ owner: this.#owner, repo: this.#name, run_id: Number(id) }),
    );
    return this.#run(res.data as GhRun);
  }

  /** The job id a job URL names, if any. */
  jobIdFromUrl(url: string): string | null {
    return RUN_URL.exec(url.trim())?.[4] ?? null;
  }

  async failedJobs(run: CiRun): Promise<CiJob[]> {
    const res = await this.#call(`the jobs of run ${run.id}`, () =>
      this.octokit.rest.actions.listJobsForWorkflowRun({
        owner: this.#owner,
        repo: this.#name,
        run_id: Number(run.id),
        filter: "latest",
        per_page: 100,
      }),
    );
    return (res.data.jobs as GhJob[])
      .filter((j) => j.conclusion === "failure" || j.conclusion === "timed_out")
      .map((j) => ({
        id: String(j.id),
        runId: String(j.run_id),
        name: j.name,
        url: j.html_url ?? `${run.url}/job/${j.id}`,
        conclusion: "failure" as RunConclusion,
        steps: (j.steps ?? []).map((s) => ({ name: s.name, number: s.number, conclusion: s.conclusion })),
      }));
  }

  async jobLog(job: CiJob, opts: { maxBytes: number }): Promise<JobLog> {
    const what = `log of job '${job.name}'`;
    // GitHub answers 302 to a signed URL valid about a minute: take the location, then fetch it
    // ourselves (streamed, tail only) without the API token.
    let res: Awaited<ReturnType<Octokit["request"]>>;
    try {
      res = await this.octokit.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", {
        owner: this.#owner,
        repo: this.#name,
        job_id: Number(job.id),
        request: { redirect: "manual" },
      });
    } catch (err) {
      const status = githubStatus(err) ?? undefined;
      if (status === 404 || status === 410)
        throw new CiError(
          "logs-unavailable",
          `the ${what} is not available: it expired (GitHub keeps logs 90 days) or was deleted`,
        );
      throw this.#error(what, err);
    }
    const location = (res.headers as Record<string, string | undefined>).location;
    if (res.status >= 300 && res.status < 400 && location) {
      return fetchLogTail(location, opts.maxBytes, { what, ...(this.opts.fetchImpl ? { fetchImpl: this.opts.fetchImpl } : {}) });
    }
    // No redirect: the API sent the log itself (already read by Octokit); keep its end.
    const body = typeof res.data === "string" ? res.data : Buffer.from(res.data as ArrayBuffer).toString("utf8");
    return readLogResponse(new Response(body, { status: 200 }), opts.maxBytes, what);
  }

  async rerunFailed(run: CiRun): Promise<void> {
    await this.#rerun(run, () =>
      this.octokit.rest.actions.reRunWorkflowFailedJobs({ owner: this.#owner, repo: this.#name, run_id: Number(run.id) }),
    );
  }

  async rerunAll(run: CiRun): Promise<void> {
    await this.#rerun(run, () =>
      this.octokit.rest.actions.reRunWorkflow({ owner: this.#owner, repo: this.#name, run_id: Number(run.id) }),
    );
  }

  /** A re-run POST, its failures said the way the one who asked can act on them. */
  async #rerun(run: CiRun, post: () => Promise<unknown>): Promise<void> {
    try {
      await post();
    } catch (err) {
      const status = githubStatus(err);
      if (status === 404)
        throw new CiError("not-found", `GitHub has no run ${run.id} in ${this.repo} (or the token may not see it)`);
      if (status === 403 || status === 429) {
        const line = githubErrorLine(err, `run ${run.id}`);
        if (/rate limit|rate-limiting/i.test(line)) throw new CiError("rate-limited", line);
        const msg = String((err as { response?: { data?: { message?: unknown } } }).response?.data?.message ?? "");
        if (/month ago|already running|cannot be retried|not completed/i.test(msg))
          throw new CiError("refused", `GitHub will not re-run run ${run.id}: ${clip(msg, 200)}`);
        throw new CiError(
          "denied",
          `GitHub refused to re-run run ${run.id} (403): the token needs the 'actions: write' permission on ${this.repo}`,
        );
      }
      throw this.#error(`re-running run ${run.id}`, err);
    }
  }

  async pull(number: number): Promise<PullInfo> {
    return githubPull(this.octokit, this.repo, number);
  }

  async file(path: string, ref: string): Promise<string | null> {
    return githubFile(this.octokit, this.repo, path, ref);
  }

  #runId(idOrUrl: string): string {
    const s = idOrUrl.trim();
    if (/^\d{1,20}$/.test(s)) return s;
    const m = RUN_URL.exec(s);
    if (!m) throw new CiError("bad-input", `'${clip(s, 60)}' is not a GitHub Actions run id or run URL`);
    const repo = `${m[1]}/${m[2]}`;
    if (repo.toLowerCase() !== this.repo.toLowerCase())
      throw new CiError("bad-input", `that run is in ${repo}; I look at the deploys of ${this.repo}`);
    return m[3] as string;
  }

  #run(r: GhRun): CiRun {
    return {
      provider: "github-actions",
      id: String(r.id),
      url: r.html_url,
      sha: r.head_sha,
      branch: r.head_branch,
      name: r.name ?? "workflow run",
      workflow: r.path ? (r.path.split("/").pop() ?? null) : null,
      event: r.event,
      pr: r.pull_requests?.[0]?.number ?? null,
      conclusion: conclusion(r.status, r.conclusion),
      createdAt: r.created_at,
      number: r.run_number,
      attempt: r.run_attempt ?? null,
    };
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#error(what, err);
    }
  }

  #error(what: string, err: unknown): CiError {
    const status = githubStatus(err) ?? undefined;
    if (status === 404) return new CiError("not-found", `GitHub has no ${what} in ${this.repo} (or I may not see it)`);
    if (status === 401) return new CiError("denied", `GitHub refused the token while reading ${what} (401)`);
    if (status === 403 || status === 429)
      return new CiError("denied", `GitHub refused ${what} (HTTP ${status}; rate limit or missing permission)`);
    if (status === 422) return new CiError("not-found", `GitHub could not find ${what} (422)`);
    if (status !== undefined && status >= 500)
      return new CiError("unreachable", `GitHub is failing (HTTP ${status}) while reading ${what}`);
    return new CiError("unreachable", `${githubErrorLine(err)} while reading ${what}`);
  }
}

/** pulls.get → the facts `why #N` needs; shared with providers whose CI is not GitHub's. */
export async function githubPull(octokit: Octokit, repo: string, number: number): Promise<PullInfo> {
  const [owner, name] = repo.split("/") as [string, string];
  try {
    const { data } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: number });
    return {
      number,
      title: data.title,
      url: data.html_url,
      headSha: data.head.sha,
      mergeSha: data.merged ? (data.merge_commit_sha ?? null) : null,
      merged: Boolean(data.merged),
    };
  } catch (err) {
    const status = githubStatus(err) ?? undefined;
    if (status === 404) throw new CiError("not-found", `${repo} has no pull request #${number}`);
    if (status === 401 || status === 403 || status === 429)
      throw new CiError("denied", `GitHub refused to show ${repo}#${number} (HTTP ${status})`);
    if (status !== undefined && status >= 500)
      throw new CiError("unreachable", `GitHub is failing (HTTP ${status}) while reading #${number}`);
    throw new CiError("unreachable", `${githubErrorLine(err)} while reading #${number}`);
  }
}

/** A file at a ref through the contents API; null for 404. */
export async function githubFile(octokit: Octokit, repo: string, path: string, ref: string): Promise<string | null> {
  const [owner, name] = repo.split("/") as [string, string];
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo: name, path, ref });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
    return Buffer.from(data.content, (data.encoding as BufferEncoding) || "base64").toString("utf8");
  } catch (err) {
    const status = githubStatus(err) ?? undefined;
    if (status === 404) return null;
    if (status !== undefined && status >= 500)
      throw new CiError("unreachable", `GitHub is failing (HTTP ${status}) while reading ${path}`);
    if (status === 401 || status === 403 || status === 429)
      throw new CiError("denied", `GitHub refused ${path} (HTTP ${status})`);
    throw new CiError("unreachable", `${githubErrorLine(err)} while reading ${path}`);
  }
}

function conclusion(status: string | null, c: string | null): RunConclusion {
  if (status !== "completed") return "running";
  if (c === "success") return "success";
  if (c === "failure" || c === "timed_out" || c === "startup_failure") return "failure";
  if (c === "cancelled") return "cancelled";
  return "other";
}

function newestFirst(a: CiRun, b: CiRun): number {
  return b.createdAt.localeCompare(a.createdAt) || Number(b.id) - Number(a.id);
}
