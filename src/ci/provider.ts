/**
 * One interface over the CI systems a deploy repository has used: GitHub Actions (mybinder.org-deploy's
 * `cd.yml`, the default) and Travis CI API v3 (the CI of the 2018 incident). `why` and, later, `retry`
 * talk only to this.
 */

import { networkCause } from "../core/network.ts";
import { timedFetch } from "../source-timing.ts";

export type RunConclusion = "success" | "failure" | "cancelled" | "running" | "other";

/** One run of the deploy pipeline: a GitHub Actions workflow run or a Travis build. */
export interface CiRun {
  provider: CiKind;
  /** Stable id as a string (GitHub run id, Travis build id). */
  id: string;
  /** Human-facing page of the run. */
  url: string;
  /** Full commit sha the run built. */
  sha: string;
  branch: string | null;
  /** Workflow name / "Travis CI". */
  name: string;
  /** Workflow file name (`cd.yml`) for GitHub Actions; null where the CI has one pipeline (Travis). */
  workflow: string | null;
  /** "push", "pull_request", … as the provider says it. */
  event: string | null;
  /** PR number when the provider knows the run was for a PR. */
  pr: number | null;
  conclusion: RunConclusion;
  /** ISO time the run was created (orders runs for streaks). */
  createdAt: string;
  /** Run number as shown in the CI UI (#1234), when there is one. */
  number: number | null;
  /** Which attempt of the run this is (GitHub Actions run_attempt; re-runs add one), when the CI counts them. */
  attempt?: number | null;
}

export interface CiStep {
  name: string;
  number: number;
  conclusion: string | null;
}

export interface CiJob {
  id: string;
  runId: string;
  name: string;
  /** Human-facing page of the job. */
  url: string;
  conclusion: RunConclusion;
  /** Steps with their conclusions, when the provider lists them (GitHub Actions does, Travis does not). */
  steps: CiStep[];
}

export interface JobLog {
  text: string;
  /** True when the log was larger than maxBytes and only its end was read. */
  truncated: boolean;
  /** Bytes read into `text` (≤ maxBytes). */
  bytes: number;
  /** Size of the whole log, when known (Content-Length / Content-Range, or counted while streaming). */
  totalBytes: number | null;
  /**
   * Lines of the log before the first line of `text`, when known, so that a line number in `text`
   * plus this is the line number in the whole log. null when the log was cut by a range request and
   * the count of earlier lines is unknown.
   */
  lineOffset: number | null;
}

export type CiKind = "github-actions" | "travis";

/** What `why #254` needs from a pull request of the deploy repository. */
export interface PullInfo {
  number: number;
  title: string;
  url: string;
  headSha: string;
  /** The merge commit once merged (the deploy on the default branch ran on it). */
  mergeSha: string | null;
  merged: boolean;
}

export interface CiProvider {
  readonly kind: CiKind;
  /** The repository the provider looks at (owner/name). */
  readonly repo: string;
  /** The most recent failed run of `workflow` on `branch`, or null when none of the recent ones failed. */
  latestFailedRun(workflow: string, branch: string): Promise<CiRun | null>;
  /** Recent completed runs of `workflow` on `branch`, newest first. */
  recentRuns(workflow: string, branch: string, limit: number): Promise<CiRun[]>;
  /** Runs that built `sha` (a full sha or a prefix of at least 7), newest first. `pr` helps providers that index runs by PR. */
  runsForCommit(sha: string, hint?: { pr?: number }): Promise<CiRun[]>;
  /** One run by id or by its URL (a job URL names its run). Throws CiError "not-found". */
  run(idOrUrl: string): Promise<CiRun>;
  /** The failed jobs of a run, in the order the CI lists them. */
  failedJobs(run: CiRun): Promise<CiJob[]>;
  /** A job's log: follows the signed redirect; reads at most maxBytes, keeping the END when it must cut. */
  jobLog(job: CiJob, opts: { maxBytes: number }): Promise<JobLog>;
  /**
   * Re-runs the failed jobs of a run (GitHub: rerun-failed-jobs; Travis: restart the failed jobs).
   * Throws CiError: "denied" (with the permission the token needs), "not-found", "rate-limited"
   * (saying when to try again), "refused" (the CI will not: too old, still running).
   */
  rerunFailed(run: CiRun): Promise<void>;
  /** Re-runs the whole run (GitHub: rerun; Travis: restart the build). Errors as rerunFailed. */
  rerunAll(run: CiRun): Promise<void>;
  /** A pull request of the deploy repository (GitHub pulls.get), whatever the CI. Throws CiError "not-found". */
  pull(number: number): Promise<PullInfo>;
  /** A file of the deploy repository at a commit (GitHub contents API), null when it does not exist there. */
  file(path: string, ref: string): Promise<string | null>;
}

export type CiErrorKind =
  /** the run/job/PR does not exist or is not visible */
  | "not-found"
  /** the log expired or is not available (yet) */
  | "logs-unavailable"
  /** the CI API could not be reached or answered 5xx */
  | "unreachable"
  /** 401/403, rate limit */
  | "denied"
  /** a rate limit, for actions where the message must say when to try again */
  | "rate-limited"
  /** the CI will not do it (a re-run of a run too old or still running) */
  | "refused"
  /** input the provider cannot read (a URL of another CI) */
  | "bad-input";

/** A CI failure with a one-line, secret-free message meant for chat. */
export class CiError extends Error {
  constructor(
    readonly kind: CiErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "CiError";
  }
}

/** Reads a response body, keeping only its last `maxBytes`; counts the lines it drops. */
export async function readTail(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ buf: Buffer; total: number; droppedLines: number }> {
  if (!body) return { buf: Buffer.alloc(0), total: 0, droppedLines: 0 };
  // A ring of chunks whose total length stays ≤ 2 × maxBytes; compacted to the tail when it grows.
  let chunks: Buffer[] = [];
  let held = 0;
  let total = 0;
  let droppedLines = 0;
  const drop = (n: number) => {
    // Drop the first n bytes of the held chunks, counting the newlines in them.
    let left = n;
    const kept: Buffer[] = [];
    for (const c of chunks) {
      if (left <= 0) kept.push(c);
      else if (c.length <= left) {
        droppedLines += countNewlines(c);
        left -= c.length;
      } else {
        droppedLines += countNewlines(c.subarray(0, left));
        kept.push(c.subarray(left));
        left = 0;
      }
    }
    chunks = kept;
    held -= n;
  };
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!value || value.length === 0) continue;
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    chunks.push(b);
    held += b.length;
    total += b.length;
    if (held > 2 * maxBytes) drop(held - maxBytes);
  }
  if (held > maxBytes) drop(held - maxBytes);
  let buf = Buffer.concat(chunks);
  if (total > buf.length) {
    // Cut at a line start so the first line is whole.
    const nl = buf.indexOf(10);
    if (nl >= 0 && nl < buf.length - 1) {
      buf = buf.subarray(nl + 1);
      droppedLines += 1;
    }
  }
  return { buf, total, droppedLines };
}

function countNewlines(b: Buffer): number {
  let n = 0;
  let i = b.indexOf(10);
  while (i >= 0) {
    n++;
    i = b.indexOf(10, i + 1);
  }
  return n;
}

/**
 * Fetches a log URL, reading at most maxBytes from the end. Asks for the tail with a Range request;
 * a server that ignores Range is streamed and only the tail is kept (the line offset is then exact).
 * `headers` go only to this URL (never send the API token to a signed storage URL).
 */
export async function fetchLogTail(
  url: string,
  maxBytes: number,
  opts: { headers?: Record<string, string>; what: string; fetchImpl?: typeof fetch } = { what: "log" },
): Promise<JobLog> {
  const f = timedFetch("ci-log", opts.fetchImpl ?? fetch);
  const range = { range: `bytes=-${maxBytes}` };
  let res: Response;
  try {
    // The API's own headers (a token) go only to the first URL; a redirect to signed storage gets none.
    res = await f(url, { headers: { ...(opts.headers ?? {}), ...range }, redirect: "manual" });
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 5; hops++) {
      const location = res.headers.get("location");
      await res.body?.cancel();
      if (!location) throw new CiError("unreachable", `the ${opts.what} redirect had no location`);
      res = await f(new URL(location, url), { headers: range, redirect: "manual" });
    }
  } catch (err) {
    if (err instanceof CiError) throw err;
    throw new CiError("unreachable", `could not download the ${opts.what}: ${networkCause(err)}`);
  }
  return readLogResponse(res, maxBytes, opts.what);
}

/** Turns a log response (200 streamed, 206 tail, or an error status) into a JobLog. */
export async function readLogResponse(res: Response, maxBytes: number, what: string): Promise<JobLog> {
  if (res.status === 416) {
    // Empty log: nothing to take a suffix of.
    await res.body?.cancel();
    return { text: "", truncated: false, bytes: 0, totalBytes: 0, lineOffset: 0 };
  }
  if (res.status === 404 || res.status === 410 || res.status === 403) {
    await res.body?.cancel();
    throw new CiError(
      "logs-unavailable",
      `the ${what} is not available (HTTP ${res.status}): logs expire, or the job never started`,
    );
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new CiError("unreachable", `the ${what} redirected too many times`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new CiError("unreachable", `could not download the ${what} (HTTP ${res.status})`);
  }
  if (res.status === 206) {
    const buf = Buffer.from(await res.arrayBuffer()).subarray(-maxBytes);
    const m = /\/(\d+)\s*$/.exec(res.headers.get("content-range") ?? "");
    const totalBytes = m ? Number(m[1]) : null;
    const cut = totalBytes === null ? true : totalBytes > buf.length;
    let out = buf;
    if (cut) {
      const nl = out.indexOf(10);
      if (nl >= 0 && nl < out.length - 1) out = out.subarray(nl + 1);
    }
    return { text: out.toString("utf8"), truncated: cut, bytes: out.length, totalBytes, lineOffset: cut ? null : 0 };
  }
  const { buf, total, droppedLines } = await readTail(res.body, maxBytes);
  return {
    text: buf.toString("utf8"),
    truncated: total > buf.length,
    bytes: buf.length,
    totalBytes: total,
    lineOffset: droppedLines,
  };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n >= 10 * 1024 * 1024 ? 0 : 1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} kB`;
  return `${n} B`;
}
