import { networkCause } from "../core/network.ts";
import { clip } from "../core/one-line.ts";
import { timedFetch } from "../source-timing.ts";
import {
  CiError,
  type CiJob,
  type CiProvider,
  type CiRun,
  fetchLogTail,
  type JobLog,
  type PullInfo,
  type RunConclusion,
} from "./provider.ts";

/** The parts of a Travis API v3 build this provider reads. */
interface TravisBuild {
  id: number;
  number?: string | null;
  state: string;
  event_type?: string | null;
  pull_request_number?: number | null;
  started_at?: string | null;
  finished_at?: string | null;
  updated_at?: string | null;
  created_at?: string | null;
  branch?: { name?: string | null } | null;
  commit?: { sha?: string | null } | null;
  repository?: { slug?: string | null } | null;
}

interface TravisJob {
  id: number;
  number?: string | null;
  state: string;
  stage?: { name?: string | null } | null;
  build?: { id: number } | null;
  config?: { name?: string | null } | null;
}

const TRAVIS_URL =
  /^<?https?:\/\/(?:app\.)?travis-ci\.(?:org|com)\/(?:github\/)?([\w.-]+)\/([\w.-]+)\/(builds|jobs)\/(\d+)(?:[/?#][^\s>]*)?>?$/i;

export interface TravisOptions {
  /** Travis CI API v3 base, e.g. https://api.travis-ci.com */
  apiUrl: string;
  /** owner/name */
  repo: string;
  /** API token (`Authorization: token …`); reads of public repositories need none, restarts do. */
  token?: string | undefined;
  /** Web base for links; derived from apiUrl when absent. */
  webUrl?: string | undefined;
  fetchImpl?: typeof fetch;
  /** Pull request look-ups (GitHub pulls.get): Travis does not know PR head commits. */
  pull?: (number: number) => Promise<PullInfo>;
  /** Deploy repository files (GitHub contents API). */
  file?: (path: string, ref: string) => Promise<string | null>;
}

/** Travis CI API v3 (header `Travis-API-Version: 3`): builds, jobs, `GET /job/{id}/log.txt`, restarts. */
export class TravisProvider implements CiProvider {
  readonly kind = "travis" as const;
  readonly repo: string;
  readonly #api: string;
  readonly #web: string;
  readonly #fetch: typeof fetch;

  constructor(private readonly opts: TravisOptions) {
    this.repo = opts.repo;
    this.#api = opts.apiUrl.replace(/\/+$/, "");
    this.#web = (opts.webUrl ?? webBase(this.#api)).replace(/\/+$/, "");
    this.#fetch = timedFetch("travis", opts.fetchImpl ?? fetch);
  }

  async latestFailedRun(_workflow: string, branch: string): Promise<CiRun | null> {
    const runs = await this.recentRuns(_workflow, branch, 25);
    return runs.find((r) => r.conclusion === "failure") ?? null;
  }

  async recentRuns(_workflow: string, branch: string, limit: number): Promise<CiRun[]> {
    const q = new URLSearchParams({
      "branch.name": branch,
      event_type: "push,api,cron",
      sort_by: "id:desc",
      limit: String(Math.min(100, Math.max(1, limit))),
    });
    const body = await this.#get<{ builds?: TravisBuild[] }>(`/repo/${slug(this.repo)}/builds?${q}`, "the builds");
    return (body.builds ?? [])
      .filter((b) => (b.branch?.name ?? branch) === branch)
      .map((b) => this.#run(b))
      .filter((r) => r.conclusion !== "running")
      .slice(0, limit);
  }

  async runsForCommit(sha: string, hint?: { pr?: number }): Promise<CiRun[]> {
    // API v3 cannot filter builds by commit: read the recent ones and match the sha (or the PR).
    const q = new URLSearchParams({ sort_by: "id:desc", limit: "100" });
    const body = await this.#get<{ builds?: TravisBuild[] }>(`/repo/${slug(this.repo)}/builds?${q}`, "the builds");
    const want = sha.toLowerCase();
    return (body.builds ?? [])
      .filter((b) => {
        const s = (b.commit?.sha ?? "").toLowerCase();
        return (s !== "" && s.startsWith(want)) || (hint?.pr !== undefined && b.pull_request_number === hint.pr);
      })
      .map((b) => this.#run(b));
  }

  async run(idOrUrl: string): Promise<CiRun> {
    const s = idOrUrl.trim();
    let buildId: string;
    if (/^\d{1,20}$/.test(s)) buildId = s;
    else {
      const m = TRAVIS_URL.exec(s);
      if (!m) throw new CiError("bad-input", `'${clip(s, 60)}' is not a Travis build id or build/job URL`);
      const repo = `${m[1]}/${m[2]}`;
      if (repo.toLowerCase() !== this.repo.toLowerCase())
        throw new CiError("bad-input", `that build is in ${repo}; I look at the deploys of ${this.repo}`);
      if ((m[3] as string).toLowerCase() === "jobs") {
        const job = await this.#get<TravisJob>(`/job/${m[4]}`, `job ${m[4]}`);
        if (!job.build?.id) throw new CiError("not-found", `Travis job ${m[4]} names no build`);
        buildId = String(job.build.id);
      } else buildId = m[4] as string;
    }
    const b = await this.#get<TravisBuild>(`/build/${buildId}`, `build ${buildId}`);
    if (b.repository?.slug && b.repository.slug.toLowerCase() !== this.repo.toLowerCase())
      throw new CiError("not-found", `Travis build ${buildId} is not a build of ${this.repo}`);
    return this.#run(b);
  }

  async failedJobs(run: CiRun): Promise<CiJob[]> {
    const body = await this.#get<{ jobs?: TravisJob[] }>(`/build/${run.id}/jobs`, `the jobs of build ${run.id}`);
    return (body.jobs ?? [])
      .filter((j) => j.state === "failed" || j.state === "errored")
      .map((j) => ({
        id: String(j.id),
        runId: run.id,
        name: j.config?.name ?? j.stage?.name ?? `job ${j.number ?? j.id}`,
        url: `${this.#web}/${this.#webRepo()}/jobs/${j.id}`,
        conclusion: "failure" as RunConclusion,
        steps: [],
      }));
  }

  async jobLog(job: CiJob, opts: { maxBytes: number }): Promise<JobLog> {
    // log.txt may redirect to archived storage; fetchLogTail sends the token to the API only.
    return fetchLogTail(`${this.#api}/job/${job.id}/log.txt`, opts.maxBytes, {
      headers: this.#headers(),
      what: `log of Travis job ${job.id}`,
      fetchImpl: this.#fetch,
    });
  }

  async rerunFailed(run: CiRun): Promise<void> {
    const jobs = await this.failedJobs(run);
    if (jobs.length === 0) return this.rerunAll(run);
    for (const j of jobs) await this.#restart(`/job/${j.id}/restart`, `job ${j.id}`);
  }

  async rerunAll(run: CiRun): Promise<void> {
    await this.#restart(`/build/${run.id}/restart`, `build ${run.id}`);
  }

  /** A restart POST, its refusals said the way the one who asked can act on them. */
  async #restart(path: string, what: string): Promise<void> {
    try {
      await this.#send("POST", path, `restarting ${what}`);
    } catch (err) {
      if (!(err instanceof CiError) || err.kind !== "denied") throw err;
      const status = /HTTP (\d+)/.exec(err.message)?.[1];
      if (status === "429")
        throw new CiError("rate-limited", `Travis CI is rate-limiting binderbot; try again in a minute (restarting ${what})`);
      throw new CiError(
        "denied",
        `Travis CI refused to restart ${what} (HTTP ${status}): deploy.travis.token must be a token of an account with push access to ${this.repo}`,
      );
    }
  }

  async pull(number: number): Promise<PullInfo> {
    if (!this.opts.pull) throw new CiError("bad-input", "pull request look-ups need GitHub access, which is not configured");
    return this.opts.pull(number);
  }

  async file(path: string, ref: string): Promise<string | null> {
    if (!this.opts.file)
      throw new CiError("bad-input", "reading the deploy repository needs GitHub access, which is not configured");
    return this.opts.file(path, ref);
  }

  #headers(): Record<string, string> {
    return {
      "Travis-API-Version": "3",
      "User-Agent": "binderbot",
      accept: "application/json",
      ...(this.opts.token ? { authorization: `token ${this.opts.token}` } : {}),
    };
  }

  async #get<T>(path: string, what: string): Promise<T> {
    return (await this.#send("GET", path, what)) as T;
  }

  async #send(method: string, path: string, what: string): Promise<unknown> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#api}${path}`, { method, headers: this.#headers() });
    } catch (err) {
      throw new CiError("unreachable", `Travis CI is unreachable (${networkCause(err)}) while reading ${what}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new CiError("not-found", `Travis CI has no ${what} for ${this.repo} (or I may not see it)`);
    }
    if (res.status === 401 || res.status === 403 || res.status === 429) {
      await res.body?.cancel();
      throw new CiError("denied", `Travis CI refused ${what} (HTTP ${res.status})`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new CiError("unreachable", `Travis CI is failing (HTTP ${res.status}) while reading ${what}`);
    }
    const text = await res.text();
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new CiError("unreachable", `Travis CI answered something that is not JSON for ${what}`);
    }
  }

  #webRepo(): string {
    return /travis-ci\.com/.test(this.#web) ? `github/${this.repo}` : this.repo;
  }

  #run(b: TravisBuild): CiRun {
    return {
      provider: "travis",
      id: String(b.id),
      url: `${this.#web}/${this.#webRepo()}/builds/${b.id}`,
      sha: b.commit?.sha ?? "",
      branch: b.branch?.name ?? null,
      name: "Travis CI",
      workflow: null,
      event: b.event_type ?? null,
      pr: b.pull_request_number ?? null,
      conclusion: state(b.state),
      createdAt: b.created_at ?? b.started_at ?? b.finished_at ?? b.updated_at ?? "",
      number: b.number && /^\d+$/.test(b.number) ? Number(b.number) : null,
    };
  }
}

function state(s: string): RunConclusion {
  if (s === "passed") return "success";
  if (s === "failed" || s === "errored") return "failure";
  if (s === "canceled" || s === "cancelled") return "cancelled";
  if (s === "created" || s === "received" || s === "queued" || s === "started") return "running";
  return "other";
}

/** The web UI for an API base: api.travis-ci.com → app.travis-ci.com/github, api.travis-ci.org → travis-ci.org. */
function webBase(api: string): string {
  if (/\/\/api\.travis-ci\.com/i.test(api)) return "https://app.travis-ci.com";
  if (/\/\/api\.travis-ci\.org/i.test(api)) return "https://travis-ci.org";
  return new URL(api).origin;
}

function slug(repo: string): string {
  return encodeURIComponent(repo);
}
