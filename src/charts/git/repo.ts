/**
 * One chart's repository as the answer reaches it: the mirror (cloned on first use, fetched when
 * stale or when a commit is unknown) and its history.
 */

import type { Logger } from "pino";
import { errorLine } from "../../core/one-line.ts";
import type { Octokit } from "../../github/client.ts";
import { ShaError } from "../errors.ts";
import type { Built, History, HistoryView } from "./history.ts";
import type { Mirror } from "./mirror.ts";

/** What the git layer needs of one chart; fixed when the chart is first used. */
export interface Repo {
  /** Chart name. */
  readonly chart: string;
  /** owner/name on GitHub. */
  readonly github: string;
  readonly mirror: Mirror;
  readonly history: History;
  readonly log: Logger;
  readonly now: () => Date;
  /** mirrors.maxAgeSeconds in ms: older mirrors are fetched before "latest" questions. */
  readonly maxAgeMs: number;
  /** The GitHub client (PR resolution). */
  readonly octokit: () => Octokit;
}

/** The mirror, cloned on first use. */
export async function ensureReady(repo: Repo): Promise<void> {
  try {
    await repo.mirror.ready();
  } catch (e) {
    throw new ShaError({ kind: "clone-failed", repo: repo.github, chart: repo.chart, error: errorLine(e) });
  }
}

export async function fetchMirror(repo: Repo): Promise<void> {
  try {
    await repo.mirror.fetch();
  } catch (e) {
    // Answer from what the mirror has; say so only if that is not enough.
    repo.log.warn({ chart: repo.chart, err: errorLine(e) }, "mirror fetch failed");
    throw new ShaError({ kind: "fetch-failed", repo: repo.github, error: errorLine(e) });
  }
}

/** Fetches when the mirror is older than mirrors.maxAgeSeconds (for "latest" questions). */
export async function freshen(repo: Repo): Promise<void> {
  const last = repo.mirror.lastFetch;
  const age = last ? repo.now().getTime() - last.getTime() : Number.POSITIVE_INFINITY;
  if (age < repo.maxAgeMs) return;
  await fetchMirror(repo);
}

/**
 * The default-branch commit CI built for `sha` (itself, or the first one that contains it), and the
 * view of history it was found in: the rest of the answer uses that view. Fetches once when no
 * default-branch commit contains it yet (maybe merged since the last fetch).
 */
export async function builtFor(repo: Repo, sha: string, view?: HistoryView): Promise<Built & { view: HistoryView }> {
  let v = view ?? (await repo.history.current());
  let r = await v.builtFor(sha);
  if (!r) {
    await fetchMirror(repo).catch(() => {});
    v = await repo.history.current();
    r = await v.builtFor(sha);
  }
  if (r) return { ...r, view: v };
  const branch = await repo.mirror.branch();
  const out = await repo.mirror.git.out(["for-each-ref", "--contains", sha, "--format=%(refname)", "refs/heads", "refs/pull"]);
  const refs = out.split("\n").filter(Boolean);
  const on = refs.filter((r) => r.startsWith("refs/heads/")).map((r) => r.slice("refs/heads/".length));
  const prs = refs
    .map((r) => /^refs\/pull\/(\d+)\/head$/.exec(r)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  throw new ShaError({ kind: "not-merged", commit: sha, branch, branches: on, prs });
}

/** The commit's header; a ShaError when the mirror has no such commit. */
export async function commitInfo(repo: Repo, sha: string) {
  const info = await repo.history.commitInfo(sha);
  if (!info) throw new ShaError({ kind: "no-commit", repo: repo.github, sha });
  return info;
}
