import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A fake GitHub REST API on 127.0.0.1 that the real Octokit (src/github/client.ts, with
 * `apiUrl: fake.url`) talks to. Field names and status codes are GitHub's own; the state is set by
 * the test through the setters below, and every request is logged.
 *
 * Endpoints: orgs.checkMembershipForUser, teams.getMembershipForUserInOrg, repos.get, pulls.get, repos.listPullRequestsAssociatedWithCommit, repos.getContent,
 * repos.getCommit, actions.{listRepoWorkflows, getWorkflow, listWorkflowRunsForRepo, listWorkflowRuns,
 * getWorkflowRun, listJobsForWorkflowRun, getJobForWorkflowRun, downloadJobLogsForWorkflowRun (302 to a
 * signed URL on this server, valid `logUrlTtlMs`), reRunWorkflowFailedJobs, reRunWorkflow (403 after 30 days)}.
 * Writes: git refs of branches (get, create, force-update: a branch's files are those of the commit
 * it is moved to), contents PUT (a commit on a branch, 409 on a stale blob sha), pulls list / create
 * (422 for a second open PR of the same head, or no commits) / update.
 * Every JSON GET carries an ETag and answers If-None-Match with a real 304, and rate-limit headers.
 */

export interface FakeRequest {
  method: string;
  /** Path without the query, e.g. /repos/o/r/pulls/1 */
  path: string;
  query: Record<string, string>;
  /** Whether an Authorization header was sent (its value is never kept). */
  auth: boolean;
  status: number;
  body?: unknown;
}

export interface FakeUser {
  login: string;
  id: number;
  type: "User" | "Bot";
}

export interface FakePull {
  number: number;
  state: "open" | "closed";
  title: string;
  body: string | null;
  draft: boolean;
  merged: boolean;
  merged_at: string | null;
  closed_at: string | null;
  created_at: string;
  updated_at: string;
  /** Like GitHub: for an open PR this is the sha of the *test* merge commit, not a real merge. */
  merge_commit_sha: string | null;
  user: FakeUser;
  head: { ref: string; sha: string; repo?: string };
  base: { ref: string; sha: string };
}

export interface FakeRun {
  id: number;
  name: string;
  /** Workflow file name, e.g. "cd.yml" (path: .github/workflows/cd.yml). */
  workflow: string;
  head_branch: string;
  head_sha: string;
  event: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: "success" | "failure" | "cancelled" | "skipped" | "timed_out" | "action_required" | "neutral" | null;
  run_number: number;
  run_attempt: number;
  display_title: string;
  created_at: string;
  updated_at: string;
  run_started_at: string;
}

export interface FakeStep {
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "cancelled" | "skipped" | null;
  number: number;
  started_at: string | null;
  completed_at: string | null;
}

export interface FakeJob {
  id: number;
  run_id: number;
  run_attempt: number;
  name: string;
  status: "queued" | "in_progress" | "completed" | "waiting";
  conclusion: "success" | "failure" | "cancelled" | "skipped" | "timed_out" | null;
  started_at: string;
  completed_at: string | null;
  steps: FakeStep[];
  /** Text served by the job-log endpoint; null → 404 (logs expired or not yet available). */
  log: string | null;
}

export interface FakeRerun {
  repo: string;
  runId: number;
  kind: "failed" | "all";
  at: string;
}

interface Failure {
  match: string | RegExp;
  method?: string;
  status: number | "close";
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeGitHubOptions {
  /** Clock for created_at defaults, the 30-day re-run limit and log-URL expiry. Real time by default. */
  now?: () => Date;
  /** When set, any request without `Authorization: token|Bearer <token>` gets 401 Bad credentials. */
  token?: string;
  /** How long the signed log URL is valid (GitHub: about a minute). */
  logUrlTtlMs?: number;
}

export interface FakeGitHub {
  /** API base URL for createOctokit({ apiUrl }). */
  readonly url: string;
  readonly requests: FakeRequest[];
  readonly reruns: FakeRerun[];
  /** Requests matching a method and a path (string: exact path or prefix; RegExp: tested). */
  requestsTo(match: string | RegExp, method?: string): FakeRequest[];
  setRepo(repo: string, patch?: { default_branch?: string; private?: boolean }): void;
  /** The next re-run of `runId` is seen running by `looks` GETs of the run, then ends with `conclusion`. */
  endRerunAs(runId: number, conclusion: FakeRun["conclusion"], looks?: number): void;
  /** Public and private members of an org (GET /orgs/{org}/members/{login}: 204, else 404). */
  setOrgMembers(org: string, logins: string[]): void;
  /** A team's members by login, with their membership state (GET …/teams/{team}/memberships/{login}). */
  setTeamMembers(org: string, team: string, members: Record<string, "active" | "pending">): void;
  setPull(
    repo: string,
    number: number,
    patch?: Partial<Omit<FakePull, "head" | "base">> & { head?: Partial<FakePull["head"]>; base?: Partial<FakePull["base"]> },
  ): FakePull;
  /** Marks a PR merged as `mergeSha` (closed, merged_at = now unless given). */
  mergePull(repo: string, number: number, mergeSha: string, at?: Date): FakePull;
  /** A file's content at a ref (ref omitted: at every ref, including the default branch). */
  setFile(repo: string, path: string, content: string | null, ref?: string): void;
  /** What GET /commits/{ref} answers for `ref` (a branch, a tag, a short or full sha). */
  setCommit(repo: string, ref: string, sha: string, extra?: { message?: string; parents?: string[]; date?: string }): void;
  addRun(repo: string, run?: Partial<FakeRun>): FakeRun;
  updateRun(id: number, patch: Partial<FakeRun>): FakeRun;
  addJob(runId: number, job?: Partial<FakeJob>): FakeJob;
  updateJob(id: number, patch: Partial<FakeJob>): FakeJob;
  /**
   * The next matching request(s) fail with `status` ("close": the connection is dropped). `body`
   * defaults to GitHub's `{ message, documentation_url, status }`.
   */
  failNext(
    match: string | RegExp,
    status: number | "close",
    opts?: { times?: number; method?: string; headers?: Record<string, string>; message?: string },
  ): void;
  /**
   * The next matching request(s) hit a rate limit: "primary" (403, x-ratelimit-remaining: 0 and a
   * reset `resetInS` from now), "secondary" (403 "secondary rate limit" with retry-after) or "429".
   */
  rateLimitNext(
    kind: "primary" | "secondary" | "429",
    opts?: { match?: string | RegExp; resetInS?: number; retryAfterS?: number; times?: number },
  ): void;
  /** A file's text as a ref sees it (a branch's own copy, else the every-ref one); null when absent. */
  fileAt(repo: string, path: string, ref: string): string | null;
  /** The pull requests of a repository, by number. */
  pullsOf(repo: string): FakePull[];
  /** Commits made through the contents API (PUT /contents), oldest first. */
  readonly writes: Array<{ repo: string; branch: string; path: string; message: string; sha: string; parent: string }>;
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest";

function sha1(s: string): string {
  return createHash("sha1").update(s).digest("hex");
}

/** The git blob id GitHub reports as a file's `sha`. */
function blobSha(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

function user(login: string): FakeUser & Record<string, unknown> {
  const id = Number.parseInt(sha1(login).slice(0, 7), 16);
  return {
    login,
    id,
    node_id: `U_${id}`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    site_admin: false,
    html_url: `https://github.com/${login}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
  };
}

/** The run or job a test named; a test that names one it never added fails here, loudly. */
function mustGet<T>(map: Map<number, T>, kind: "run" | "job", id: number): T {
  const v = map.get(id);
  if (!v) throw new Error(`fake github: no ${kind} ${id}`);
  return v;
}

function matches(match: string | RegExp, path: string): boolean {
  return typeof match === "string"
    ? path === match || path.startsWith(match.endsWith("/") ? match : `${match}/`)
    : match.test(path);
}

export async function startFakeGitHub(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const now = opts.now ?? (() => new Date());
  const logTtl = opts.logUrlTtlMs ?? 60_000;
  const iso = () =>
    now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
  const secret = randomBytes(8).toString("hex");

  const repos = new Map<string, { id: number; default_branch: string; private: boolean; created_at: string }>();
  const pulls = new Map<string, FakePull>(); // `${repo}#${n}`
  const files = new Map<string, Buffer | null>(); // `${repo}\0${ref}\0${path}`, ref "" = every ref
  const commits = new Map<string, { sha: string; message: string; parents: string[]; date: string }>(); // `${repo}\0${ref}`
  const heads = new Map<string, string>(); // `${repo}\0${branch}` → commit sha
  const writes: FakeGitHub["writes"] = [];
  let nextPull = 1000;
  const runs = new Map<number, FakeRun & { repo: string }>();
  const jobs = new Map<number, FakeJob>();
  const requests: FakeRequest[] = [];
  const reruns: FakeRerun[] = [];
  const failures: Failure[] = [];
  const orgMembers = new Map<string, Set<string>>();
  const rerunEnds = new Map<number, { conclusion: FakeRun["conclusion"]; looks: number }>();
  const teamMembers = new Map<string, Map<string, "active" | "pending">>(); // `${org}/${team}`
  let nextRunId = 9_000_000_001;
  let nextJobId = 25_000_000_001;
  let remaining = 5000;
  let base = "";

  const ensureRepo = (full: string) => {
    let r = repos.get(full);
    if (!r) {
      r = {
        id: Number.parseInt(sha1(full).slice(0, 8), 16),
        default_branch: "main",
        private: false,
        created_at: "2017-05-01T12:00:00Z",
      };
      repos.set(full, r);
    }
    return r;
  };
  const workflowId = (full: string, file: string) => Number.parseInt(sha1(`${full}/${file}`).slice(0, 7), 16);

  // ---------- response shapes (as GitHub sends them) ----------
  const repoJson = (full: string) => {
    const r = ensureRepo(full);
    const [owner, name] = full.split("/") as [string, string];
    return {
      id: r.id,
      node_id: `R_${r.id}`,
      name,
      full_name: full,
      private: r.private,
      owner: user(owner),
      html_url: `https://github.com/${full}`,
      url: `${base}/repos/${full}`,
      fork: false,
      default_branch: r.default_branch,
      visibility: r.private ? "private" : "public",
      archived: false,
      created_at: r.created_at,
    };
  };
  /** A pull's `head` or `base`: the branch `ref` at `sha` in repository `full`. */
  const branchJson = (full: string, ref: string, sha: string) => {
    const owner = full.split("/")[0]!;
    return { label: `${owner}:${ref}`, ref, sha, user: user(owner), repo: repoJson(full) };
  };
  const pullJson = (full: string, p: FakePull) => {
    return {
      url: `${base}/repos/${full}/pulls/${p.number}`,
      id: 100_000 + p.number,
      node_id: `PR_${p.number}`,
      html_url: `https://github.com/${full}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: user(p.user.login),
      body: p.body,
      created_at: p.created_at,
      updated_at: p.updated_at,
      closed_at: p.closed_at,
      merged_at: p.merged_at,
      merge_commit_sha: p.merge_commit_sha,
      draft: p.draft,
      head: branchJson(p.head.repo ?? full, p.head.ref, p.head.sha),
      base: branchJson(full, p.base.ref, p.base.sha),
      author_association: "MEMBER",
      merged: p.merged,
      mergeable: p.merged ? null : true,
      merged_by: p.merged ? user("merger") : null,
      comments: 0,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    };
  };
  const runJson = (r: FakeRun & { repo: string }) => {
    const wid = workflowId(r.repo, r.workflow);
    const u = `${base}/repos/${r.repo}/actions/runs/${r.id}`;
    return {
      id: r.id,
      name: r.name,
      node_id: `WFR_${r.id}`,
      head_branch: r.head_branch,
      head_sha: r.head_sha,
      path: `.github/workflows/${r.workflow}`,
      display_title: r.display_title,
      run_number: r.run_number,
      event: r.event,
      status: r.status,
      conclusion: r.conclusion,
      workflow_id: wid,
      check_suite_id: r.id + 1,
      url: u,
      html_url: `https://github.com/${r.repo}/actions/runs/${r.id}`,
      created_at: r.created_at,
      updated_at: r.updated_at,
      run_attempt: r.run_attempt,
      run_started_at: r.run_started_at,
      actor: user("merger"),
      triggering_actor: user("merger"),
      jobs_url: `${u}/jobs`,
      logs_url: `${u}/logs`,
      check_suite_url: `${base}/repos/${r.repo}/check-suites/${r.id + 1}`,
      artifacts_url: `${u}/artifacts`,
      cancel_url: `${u}/cancel`,
      rerun_url: `${u}/rerun`,
      previous_attempt_url: r.run_attempt > 1 ? `${u}/attempts/${r.run_attempt - 1}` : null,
      workflow_url: `${base}/repos/${r.repo}/actions/workflows/${wid}`,
      head_commit: { id: r.head_sha, tree_id: sha1(`tree${r.head_sha}`), message: r.display_title, timestamp: r.created_at },
      repository: { id: ensureRepo(r.repo).id, name: r.repo.split("/")[1], full_name: r.repo },
      head_repository: { id: ensureRepo(r.repo).id, name: r.repo.split("/")[1], full_name: r.repo },
    };
  };
  const jobJson = (j: FakeJob) => {
    const r = runs.get(j.run_id)!;
    return {
      id: j.id,
      run_id: j.run_id,
      run_url: `${base}/repos/${r.repo}/actions/runs/${r.id}`,
      run_attempt: j.run_attempt,
      node_id: `CR_${j.id}`,
      head_sha: r.head_sha,
      head_branch: r.head_branch,
      url: `${base}/repos/${r.repo}/actions/jobs/${j.id}`,
      html_url: `https://github.com/${r.repo}/actions/runs/${r.id}/job/${j.id}`,
      status: j.status,
      conclusion: j.conclusion,
      created_at: j.started_at,
      started_at: j.started_at,
      completed_at: j.completed_at,
      name: j.name,
      steps: j.steps,
      check_run_url: `${base}/repos/${r.repo}/check-runs/${j.id}`,
      labels: ["ubuntu-22.04"],
      runner_id: 1,
      runner_name: "GitHub Actions 1",
      runner_group_id: 2,
      runner_group_name: "GitHub Actions",
      workflow_name: r.name,
    };
  };
  const workflowJson = (full: string, file: string) => {
    const id = workflowId(full, file);
    return {
      id,
      node_id: `W_${id}`,
      name: file.replace(/\.ya?ml$/, ""),
      path: `.github/workflows/${file}`,
      state: "active",
      created_at: "2020-01-01T00:00:00Z",
      updated_at: "2020-01-01T00:00:00Z",
      url: `${base}/repos/${full}/actions/workflows/${id}`,
      html_url: `https://github.com/${full}/blob/main/.github/workflows/${file}`,
      badge_url: `https://github.com/${full}/workflows/${file}/badge.svg`,
    };
  };

  // ---------- HTTP ----------
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        send(res, 500, { message: `fake github: ${(e as Error).message}` });
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  let current: FakeRequest | null = null;
  const rateHeaders = (): Record<string, string> => ({
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": String(Math.max(0, remaining)),
    "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
    "x-ratelimit-used": String(5000 - remaining),
    "x-ratelimit-resource": "core",
    "x-github-api-version-selected": "2022-11-28",
  });

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, req?: IncomingMessage) {
    if (current) current.status = status;
    const h: Record<string, string> = { ...rateHeaders(), ...headers };
    if (status === 204 || status === 304 || body === undefined) {
      res.writeHead(status, h).end();
      return;
    }
    const text = typeof body === "string" ? body : JSON.stringify(body);
    if (typeof body !== "string") h["content-type"] ??= "application/json; charset=utf-8";
    else h["content-type"] ??= "text/plain; charset=utf-8";
    if (req && req.method === "GET" && status === 200) {
      const etag = `W/"${sha1(text)}"`;
      h.etag = etag;
      const inm = req.headers["if-none-match"];
      if (inm?.split(",").some((t) => t.trim() === etag || t.trim() === etag.slice(2))) {
        if (current) current.status = 304;
        res.writeHead(304, h).end();
        return;
      }
    }
    res.writeHead(status, h).end(text);
  }
  const notFound = (res: ServerResponse) => send(res, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });

  const paginate = (
    res: ServerResponse,
    req: IncomingMessage,
    url: URL,
    key: string | null,
    all: unknown[],
    extra: Record<string, unknown> = {},
  ) => {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 30) || 30));
    const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
    const items = all.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const headers: Record<string, string> = {};
    const link = (p: number, rel: string) => {
      const u = new URL(url.toString());
      u.searchParams.set("page", String(p));
      u.searchParams.set("per_page", String(perPage));
      return `<${base}${u.pathname}${u.search}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) links.push(link(page - 1, "prev"), link(1, "first"));
    if (links.length) headers.link = links.join(", ");
    send(res, 200, key ? { total_count: all.length, ...extra, [key]: items } : items, headers, req);
  };

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string) {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/\/+$/, "") || "/";
    /** Notes the request in `requests` for the tests to read; `send` fills in the status. */
    const record = (more: { body?: unknown } = {}): FakeRequest => {
      const r: FakeRequest = {
        method,
        path,
        query: Object.fromEntries(url.searchParams),
        auth: Boolean(req.headers.authorization),
        status: 0,
        ...more,
      };
      current = r;
      requests.push(r);
      return r;
    };

    // The signed log URL: no API semantics, no auth, not counted against the rate limit.
    const signed = /^\/_signed\/job-logs\/(\d+)$/.exec(path);
    if (signed) {
      record();
      const id = Number(signed[1]);
      const expires = Number(url.searchParams.get("se"));
      const sig = url.searchParams.get("sig");
      const job = jobs.get(id);
      if (!job || sig !== sha1(`${secret}:${id}:${expires}`).slice(0, 20) || now().getTime() > expires) {
        send(
          res,
          403,
          "AuthenticationFailed: Server failed to authenticate the request. Signature not valid in the specified time frame.\n",
        );
        return;
      }
      send(res, 200, job.log ?? "");
      return;
    }

    let body: unknown;
    if (rawBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const request = record(body === undefined ? {} : { body });
    remaining--;

    if (opts.token !== undefined) {
      const a = req.headers.authorization ?? "";
      if (a !== `token ${opts.token}` && a !== `Bearer ${opts.token}`) {
        send(res, 401, { message: "Bad credentials", documentation_url: DOCS, status: "401" });
        return;
      }
    }

    const fi = failures.findIndex((f) => matches(f.match, path) && (!f.method || f.method === method));
    if (fi >= 0) {
      const f = failures.splice(fi, 1)[0]!;
      if (f.status === "close") {
        request.status = -1;
        req.socket.destroy();
        return;
      }
      send(res, f.status, f.body, f.headers);
      return;
    }

    let m = [] as unknown as RegExpExecArray;
    const hit = (re: string): boolean => {
      const r = new RegExp(`^${re}$`).exec(path);
      if (r) m = r;
      return r !== null;
    };
    // Org and team membership (the access policy's GitHub grant), as GitHub answers a member token.
    if (method === "GET" && hit("/orgs/([^/]+)/members/([^/]+)")) {
      return orgMembers.get(m[1]!)?.has(m[2]!) ? send(res, 204, undefined) : notFound(res);
    }
    if (method === "GET" && hit("/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)")) {
      const team = teamMembers.get(`${m[1]}/${m[2]}`);
      const state = team?.get(m[3]!);
      if (!state) return notFound(res);
      return send(res, 200, { url: `${base}${path}`, role: "member", state }, {}, req);
    }
    const R = "/repos/([^/]+/[^/]+)";
    if (method === "GET" && hit(`${R}`)) {
      if (!repos.has(m[1]!)) return notFound(res);
      return send(res, 200, repoJson(m[1]!), {}, req);
    }
    const repo = /^\/repos\/([^/]+\/[^/]+)/.exec(path)?.[1];
    if (!repo || !repos.has(repo)) return notFound(res);

    if (method === "GET" && hit(`${R}/pulls/(\\d+)`)) {
      const p = pulls.get(`${repo}#${m[2]}`);
      return p ? send(res, 200, pullJson(repo, p), {}, req) : notFound(res);
    }
    // ----- writes: branches (git refs), a file's contents on a branch, pull requests -----
    const headOf = (branch: string): string | undefined => {
      const k = `${repo}\0${branch}`;
      if (!heads.has(k) && branch === ensureRepo(repo).default_branch) heads.set(k, sha1(`branch:${repo}:${branch}`));
      return heads.get(k);
    };
    /** Points `branch` at `sha`; its files become those of the branch that was at `sha`. */
    const moveBranch = (branch: string, sha: string) => {
      const from = [...heads.entries()].find(([k, v]) => k.startsWith(`${repo}\0`) && v === sha)?.[0].split("\0")[1];
      for (const k of [...files.keys()]) if (k.startsWith(`${repo}\0${branch}\0`)) files.delete(k);
      if (from !== undefined) {
        for (const [k, v] of [...files.entries()]) {
          const [r, ref, fp] = k.split("\0");
          if (r === repo && ref === from) files.set(`${repo}\0${branch}\0${fp}`, v);
        }
      }
      heads.set(`${repo}\0${branch}`, sha);
    };
    const refJson = (branch: string, sha: string) => ({
      ref: `refs/heads/${branch}`,
      node_id: `REF_${sha.slice(0, 8)}`,
      url: `${base}/repos/${repo}/git/refs/heads/${branch}`,
      object: { sha, type: "commit", url: `${base}/repos/${repo}/git/commits/${sha}` },
    });
    // Octokit sends the ref as one path segment (heads%2Fmain), as GitHub accepts it.
    if (hit(`${R}/git/refs?/(heads(?:/|%2F).+)`) && (method === "GET" || method === "PATCH")) {
      const branch = decodeURIComponent(m[2]!).replace(/^heads\//, "");
      const head = headOf(branch);
      if (!head) return send(res, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
      if (method === "GET") return send(res, 200, refJson(branch, head), {}, req);
      const b = (body ?? {}) as { sha?: string; force?: boolean };
      if (!b.sha) return send(res, 422, { message: "Invalid request.", documentation_url: DOCS, status: "422" });
      moveBranch(branch, b.sha);
      return send(res, 200, refJson(branch, b.sha));
    }
    if (method === "POST" && path === `/repos/${repo}/git/refs`) {
      const b = (body ?? {}) as { ref?: string; sha?: string };
      const branch = b.ref?.replace(/^refs\/heads\//, "");
      if (!branch || !b.sha) return send(res, 422, { message: "Invalid request.", documentation_url: DOCS, status: "422" });
      if (headOf(branch)) return send(res, 422, { message: "Reference already exists", documentation_url: DOCS, status: "422" });
      moveBranch(branch, b.sha);
      return send(res, 201, refJson(branch, b.sha));
    }
    if (method === "PUT" && hit(`${R}/contents/(.+)`)) {
      const fpath = decodeURIComponent(m[2]!);
      const b = (body ?? {}) as { message?: string; content?: string; sha?: string; branch?: string };
      const branch = b.branch ?? ensureRepo(repo).default_branch;
      const parent = headOf(branch);
      if (!parent) return send(res, 404, { message: `Branch ${branch} not found`, documentation_url: DOCS, status: "404" });
      const key = files.has(`${repo}\0${branch}\0${fpath}`) ? `${repo}\0${branch}\0${fpath}` : `${repo}\0\0${fpath}`;
      const existing = files.get(key);
      if (existing && b.sha !== blobSha(existing)) {
        return send(res, 409, {
          message: `${fpath} does not match ${b.sha ?? "(no sha)"}`,
          documentation_url: DOCS,
          status: "409",
        });
      }
      if (!b.message || typeof b.content !== "string") {
        return send(res, 422, { message: "Invalid request.", documentation_url: DOCS, status: "422" });
      }
      const content = Buffer.from(b.content, "base64");
      files.set(`${repo}\0${branch}\0${fpath}`, content);
      const commit = sha1(`commit:${parent}:${fpath}:${b.content}`);
      heads.set(`${repo}\0${branch}`, commit);
      writes.push({ repo, branch, path: fpath, message: b.message, sha: commit, parent });
      return send(res, existing ? 200 : 201, {
        content: { name: fpath.split("/").pop(), path: fpath, sha: blobSha(content), type: "file" },
        commit: { sha: commit, message: b.message, parents: [{ sha: parent }] },
      });
    }
    if (method === "GET" && path === `/repos/${repo}/pulls`) {
      const q = url.searchParams;
      const state = q.get("state") ?? "open";
      const head = q.get("head");
      const list = [...pulls.entries()]
        .filter(([k]) => k.startsWith(`${repo}#`))
        .map(([, p]) => p)
        .filter((p) => state === "all" || p.state === state)
        .filter((p) => !head || `${(p.head.repo ?? repo).split("/")[0]}:${p.head.ref}` === head)
        .sort((a, b) => b.number - a.number)
        .map((p) => pullJson(repo, p));
      return paginate(res, req, url, null, list);
    }
    if (method === "POST" && path === `/repos/${repo}/pulls`) {
      const b = (body ?? {}) as { title?: string; head?: string; base?: string; body?: string };
      const headRef = b.head?.replace(/^[^:]+:/, "") ?? "";
      const headSha = headOf(headRef);
      const baseSha = b.base ? headOf(b.base) : undefined;
      if (!b.title || !headSha || !baseSha) {
        return send(res, 422, {
          message: "Validation Failed",
          errors: [{ resource: "PullRequest", code: "invalid" }],
          documentation_url: DOCS,
          status: "422",
        });
      }
      const dup = [...pulls.values()].find(
        (p) => p.state === "open" && p.head.ref === headRef && pulls.get(`${repo}#${p.number}`) === p,
      );
      if (dup) {
        return send(res, 422, {
          message: "Validation Failed",
          errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${b.head}.` }],
          documentation_url: DOCS,
          status: "422",
        });
      }
      if (headSha === baseSha) {
        return send(res, 422, {
          message: "Validation Failed",
          errors: [{ resource: "PullRequest", code: "custom", message: `No commits between ${b.base} and ${headRef}` }],
          documentation_url: DOCS,
          status: "422",
        });
      }
      const p = fake.setPull(repo, ++nextPull, {
        title: b.title,
        body: b.body ?? null,
        user: user("binderbot[bot]"),
        head: { ref: headRef, sha: headSha },
        base: { ref: b.base!, sha: baseSha },
      });
      return send(res, 201, pullJson(repo, p));
    }
    if (method === "PATCH" && hit(`${R}/pulls/(\\d+)`)) {
      const p = pulls.get(`${repo}#${m[2]}`);
      if (!p) return notFound(res);
      const b = (body ?? {}) as { title?: string; body?: string; state?: "open" | "closed" };
      const q = fake.setPull(repo, p.number, {
        ...(b.title !== undefined ? { title: b.title } : {}),
        ...(b.body !== undefined ? { body: b.body } : {}),
        ...(b.state !== undefined ? { state: b.state } : {}),
        head: { sha: headOf(p.head.ref) ?? p.head.sha },
        updated_at: iso(),
      });
      return send(res, 200, pullJson(repo, q));
    }
    if (method === "GET" && hit(`${R}/commits/([0-9a-fA-F]{7,40})/pulls`)) {
      const sha = m[2]!.toLowerCase();
      const list = [...pulls.entries()]
        .filter(
          ([k, p]) =>
            k.startsWith(`${repo}#`) && (p.head.sha.startsWith(sha) || (p.merged && p.merge_commit_sha?.startsWith(sha))),
        )
        .map(([, p]) => pullJson(repo, p));
      return paginate(res, req, url, null, list);
    }
    if (method === "GET" && hit(`${R}/contents/(.+)`)) {
      const fpath = decodeURIComponent(m[2]!);
      const asked = url.searchParams.get("ref") ?? "";
      // A commit sha that is a branch's head reads that branch's files.
      const ref = [...heads.entries()].find(([k, v]) => k.startsWith(`${repo}\0`) && v === asked)?.[0].split("\0")[1] ?? asked;
      const key = files.has(`${repo}\0${ref}\0${fpath}`) ? `${repo}\0${ref}\0${fpath}` : `${repo}\0\0${fpath}`;
      const content = files.get(key);
      if (!content) return notFound(res);
      const name = fpath.split("/").pop()!;
      const sha = blobSha(content);
      const b64 = content.toString("base64").replace(/.{1,60}/g, "$&\n");
      const html = `https://github.com/${repo}/blob/${ref || ensureRepo(repo).default_branch}/${fpath}`;
      return send(
        res,
        200,
        {
          type: "file",
          encoding: "base64",
          size: content.length,
          name,
          path: fpath,
          content: b64,
          sha,
          url: `${base}/repos/${repo}/contents/${fpath}${ref ? `?ref=${ref}` : ""}`,
          git_url: `${base}/repos/${repo}/git/blobs/${sha}`,
          html_url: html,
          download_url: `https://raw.githubusercontent.com/${repo}/${ref || ensureRepo(repo).default_branch}/${fpath}`,
          _links: { self: `${base}/repos/${repo}/contents/${fpath}`, git: `${base}/repos/${repo}/git/blobs/${sha}`, html },
        },
        {},
        req,
      );
    }
    if (method === "GET" && hit(`${R}/commits/([^/]+)`)) {
      const ref = decodeURIComponent(m[2]!);
      let c = commits.get(`${repo}\0${ref}`);
      if (!c && /^[0-9a-f]{7,40}$/i.test(ref)) {
        const hits = [...commits.entries()].filter(([k, v]) => k.startsWith(`${repo}\0`) && v.sha.startsWith(ref.toLowerCase()));
        const uniq = new Set(hits.map(([, v]) => v.sha));
        if (uniq.size === 1) c = hits[0]![1];
      }
      if (!c) return send(res, 422, { message: `No commit found for SHA: ${ref}`, documentation_url: DOCS, status: "422" });
      return send(
        res,
        200,
        {
          sha: c.sha,
          node_id: `C_${c.sha}`,
          commit: {
            author: { name: "Dev", email: "dev@example.org", date: c.date },
            committer: { name: "GitHub", email: "noreply@github.com", date: c.date },
            message: c.message,
            tree: { sha: sha1(`tree${c.sha}`), url: `${base}/repos/${repo}/git/trees/${sha1(`tree${c.sha}`)}` },
            url: `${base}/repos/${repo}/git/commits/${c.sha}`,
            comment_count: 0,
          },
          url: `${base}/repos/${repo}/commits/${c.sha}`,
          html_url: `https://github.com/${repo}/commit/${c.sha}`,
          author: user("dev"),
          committer: user("web-flow"),
          parents: c.parents.map((p) => ({
            sha: p,
            url: `${base}/repos/${repo}/commits/${p}`,
            html_url: `https://github.com/${repo}/commit/${p}`,
          })),
          stats: { total: 1, additions: 1, deletions: 0 },
          files: [],
        },
        {},
        req,
      );
    }

    // ----- GitHub Actions -----
    const repoRuns = () =>
      [...runs.values()]
        .filter((r) => r.repo === repo)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : b.id - a.id));
    const filterRuns = (list: (FakeRun & { repo: string })[]) => {
      const q = url.searchParams;
      return list.filter((r) => {
        if (q.has("head_sha") && r.head_sha !== q.get("head_sha")) return false;
        if (q.has("branch") && r.head_branch !== q.get("branch")) return false;
        if (q.has("event") && r.event !== q.get("event")) return false;
        const st = q.get("status");
        if (st && r.status !== st && r.conclusion !== st) return false;
        return true;
      });
    };
    if (method === "GET" && path === `/repos/${repo}/actions/workflows`) {
      const files = [...new Set(repoRuns().map((r) => r.workflow))].sort();
      return paginate(
        res,
        req,
        url,
        "workflows",
        files.map((f) => workflowJson(repo, f)),
      );
    }
    if (method === "GET" && hit(`${R}/actions/workflows/([^/]+)(/runs)?`)) {
      const w = decodeURIComponent(m[2]!);
      const file = repoRuns()
        .map((r) => r.workflow)
        .find((f) => f === w || String(workflowId(repo, f)) === w);
      if (!file) return notFound(res);
      if (!m[3]) return send(res, 200, workflowJson(repo, file), {}, req);
      return paginate(res, req, url, "workflow_runs", filterRuns(repoRuns().filter((r) => r.workflow === file)).map(runJson));
    }
    if (method === "GET" && path === `/repos/${repo}/actions/runs`) {
      return paginate(res, req, url, "workflow_runs", filterRuns(repoRuns()).map(runJson));
    }
    if (hit(`${R}/actions/runs/(\\d+)(/jobs|/rerun|/rerun-failed-jobs)?`)) {
      const run = runs.get(Number(m[2]));
      if (!run || run.repo !== repo) return notFound(res);
      const sub = m[3];
      if (method === "GET" && !sub) {
        // A re-run scripted to end: it is seen running `looks` times, then ended.
        const end = rerunEnds.get(run.id);
        if (end && run.status !== "completed" && end.looks-- <= 0) {
          rerunEnds.delete(run.id);
          Object.assign(run, { status: "completed", conclusion: end.conclusion, updated_at: iso() });
        }
        return send(res, 200, runJson(run), {}, req);
      }
      if (method === "GET" && sub === "/jobs") {
        const filter = url.searchParams.get("filter") ?? "latest";
        const list = [...jobs.values()]
          .filter((j) => j.run_id === run.id && (filter === "all" || j.run_attempt === run.run_attempt))
          .sort((a, b) => a.id - b.id);
        return paginate(res, req, url, "jobs", list.map(jobJson));
      }
      if (method === "POST" && (sub === "/rerun" || sub === "/rerun-failed-jobs")) {
        if (now().getTime() - Date.parse(run.created_at) > 30 * 86_400_000) {
          return send(res, 403, {
            message: "Unable to retry this workflow run because it was created over a month ago",
            documentation_url: DOCS,
            status: "403",
          });
        }
        if (run.status !== "completed") {
          return send(res, 403, { message: "This workflow is already running", documentation_url: DOCS, status: "403" });
        }
        if (sub === "/rerun-failed-jobs" && run.conclusion === "success") {
          return send(res, 403, { message: "This workflow run cannot be retried", documentation_url: DOCS, status: "403" });
        }
        reruns.push({ repo, runId: run.id, kind: sub === "/rerun" ? "all" : "failed", at: iso() });
        Object.assign(run, { status: "queued", conclusion: null, run_attempt: run.run_attempt + 1, updated_at: iso() });
        return send(res, 201, {});
      }
      return notFound(res);
    }
    if (hit(`${R}/actions/jobs/(\\d+)(/logs)?`) && method === "GET") {
      const job = jobs.get(Number(m[2]));
      if (!job || runs.get(job.run_id)?.repo !== repo) return notFound(res);
      if (!m[3]) return send(res, 200, jobJson(job), {}, req);
      if (job.log === null) return notFound(res);
      const se = now().getTime() + logTtl;
      const sig = sha1(`${secret}:${job.id}:${se}`).slice(0, 20);
      return send(res, 302, undefined, { location: `${base}/_signed/job-logs/${job.id}?sv=2021-08-06&se=${se}&sig=${sig}` });
    }
    return notFound(res);
  }

  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeGitHub = {
    get url() {
      return base;
    },
    requests,
    reruns,
    endRerunAs(runId, conclusion, looks = 1) {
      rerunEnds.set(runId, { conclusion, looks });
    },
    setOrgMembers(org, logins) {
      orgMembers.set(org, new Set(logins));
    },
    setTeamMembers(org, team, members) {
      teamMembers.set(`${org}/${team}`, new Map(Object.entries(members)));
    },
    requestsTo(match, method) {
      return requests.filter((r) => matches(match, r.path) && (!method || r.method === method));
    },
    setRepo(full, patch = {}) {
      Object.assign(ensureRepo(full), patch);
    },
    setPull(full, number, patch = {}) {
      ensureRepo(full);
      const key = `${full}#${number}`;
      const t = iso();
      const prev: FakePull = pulls.get(key) ?? {
        number,
        state: "open",
        title: `PR ${number}`,
        body: null,
        draft: false,
        merged: false,
        merged_at: null,
        closed_at: null,
        created_at: t,
        updated_at: t,
        merge_commit_sha: sha1(`test-merge:${full}#${number}`),
        user: user("contributor"),
        head: { ref: `pr-${number}`, sha: sha1(`head:${full}#${number}`) },
        base: { ref: ensureRepo(full).default_branch, sha: sha1(`base:${full}#${number}`) },
      };
      const { head, base: b, ...rest } = patch;
      const p: FakePull = { ...prev, ...rest, head: { ...prev.head, ...head }, base: { ...prev.base, ...b } };
      pulls.set(key, p);
      return p;
    },
    mergePull(full, number, mergeSha, at) {
      const t = (at ?? now()).toISOString().replace(/\.\d{3}Z$/, "Z");
      return fake.setPull(full, number, {
        state: "closed",
        merged: true,
        merged_at: t,
        closed_at: t,
        updated_at: t,
        merge_commit_sha: mergeSha,
      });
    },
    setFile(full, path, content, ref) {
      ensureRepo(full);
      files.set(`${full}\0${ref ?? ""}\0${path.replace(/^\/+/, "")}`, content === null ? null : Buffer.from(content, "utf8"));
    },
    writes,
    fileAt(full, path, ref) {
      const p = path.replace(/^\/+/, "");
      const own = files.get(`${full}\0${ref}\0${p}`);
      const any = own === undefined ? files.get(`${full}\0\0${p}`) : own;
      return any ? any.toString("utf8") : null;
    },
    pullsOf(full) {
      return [...pulls.entries()].filter(([k]) => k.startsWith(`${full}#`)).map(([, p]) => p);
    },
    setCommit(full, ref, sha, extra = {}) {
      ensureRepo(full);
      commits.set(`${full}\0${ref}`, {
        sha,
        message: extra.message ?? `commit ${sha.slice(0, 7)}`,
        parents: extra.parents ?? [],
        date: extra.date ?? iso(),
      });
    },
    addRun(full, patch = {}) {
      ensureRepo(full);
      const t = iso();
      const id = patch.id ?? nextRunId++;
      const run: FakeRun & { repo: string } = {
        repo: full,
        id,
        name: "Continuous Deployment",
        workflow: "cd.yml",
        head_branch: ensureRepo(full).default_branch,
        head_sha: sha1(`run:${id}`),
        event: "push",
        status: "completed",
        conclusion: "success",
        run_number: [...runs.values()].filter((r) => r.repo === full).length + 1,
        run_attempt: 1,
        display_title: `run ${id}`,
        created_at: t,
        updated_at: t,
        run_started_at: t,
        ...patch,
      };
      runs.set(id, run);
      return run;
    },
    updateRun(id, patch) {
      return Object.assign(mustGet(runs, "run", id), patch);
    },
    addJob(runId, patch = {}) {
      const run = mustGet(runs, "run", runId);
      const t = iso();
      const job: FakeJob = {
        id: patch.id ?? nextJobId++,
        run_id: runId,
        run_attempt: run.run_attempt,
        name: "deploy",
        status: "completed",
        conclusion: "success",
        started_at: t,
        completed_at: t,
        steps: [],
        log: "",
        ...patch,
      };
      jobs.set(job.id, job);
      return job;
    },
    updateJob(id, patch) {
      return Object.assign(mustGet(jobs, "job", id), patch);
    },
    failNext(match, status, o = {}) {
      for (let i = 0; i < (o.times ?? 1); i++) {
        failures.push({
          match,
          ...(o.method ? { method: o.method } : {}),
          status,
          headers: o.headers ?? {},
          body: {
            message: o.message ?? (status === 404 ? "Not Found" : `fake failure ${status}`),
            documentation_url: DOCS,
            status: String(status),
          },
        });
      }
    },
    rateLimitNext(kind, o = {}) {
      const match = o.match ?? /./;
      for (let i = 0; i < (o.times ?? 1); i++) {
        if (kind === "primary") {
          const reset = Math.floor(Date.now() / 1000) + (o.resetInS ?? 0);
          failures.push({
            match,
            status: 403,
            headers: {
              "x-ratelimit-limit": "60",
              "x-ratelimit-remaining": "0",
              "x-ratelimit-used": "60",
              "x-ratelimit-reset": String(reset),
            },
            body: {
              message:
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
              documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
            },
          });
        } else {
          failures.push({
            match,
            status: kind === "secondary" ? 403 : 429,
            headers: { "retry-after": String(o.retryAfterS ?? 1) },
            body: {
              message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
              documentation_url:
                "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            },
          });
        }
      }
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
  return fake;
}
