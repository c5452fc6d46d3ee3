import type { Logger } from "pino";
import type { ChartConfig } from "../config/schema.ts";
import type { Octokit } from "../github/client.ts";
import { ShaError } from "./errors.ts";
import type { Mirror } from "./git/mirror.ts";
import type { ChartIndex, IndexSnapshot } from "./index/chart-index.ts";
import type { Computation } from "./rule/compute.ts";

/** A commit as the rule needs it. */
export interface CommitInfo {
  sha: string;
  parents: string[];
  /** committer date, ISO */
  date: string;
  subject: string;
}

/**
 * Everything one chart's answers are made from: its config, mirror and index, and the caches of
 * what history says (immutable once read, so cached until a fetch changes the tip or the tags).
 */
export interface ChartContext {
  cfg: ChartConfig;
  mirror: Mirror;
  index: ChartIndex;
  log: Logger;
  now: () => Date;
  /** mirrors.maxAgeSeconds in ms: older mirrors are fetched before "latest" questions. */
  maxAgeMs: number;
  /** The GitHub client (PR resolution). */
  octokit: () => Octokit;
  /** First-parent positions of the default branch at `tip` (0 = the tip). */
  fp: { tip: string; pos: Map<string, number> } | null;
  /** Tag name → commit and → creation time (ms), as of mirror fetch number `key`. */
  tags: { key: number; byName: Map<string, string>; created: Map<string, number> } | null;
  /** Tag commit → oldest first-parent position containing it, for `tip` and tags `key`. */
  tagBounds: { tip: string; key: number; bounds: Map<string, number> } | null;
  /** The rule's result by built commit. */
  computed: Map<string, Computation>;
  commits: Map<string, CommitInfo>;
  /** A commit off the first-parent chain → the first default-branch commit that contained it. */
  mergedBy: Map<string, string>;
}

const MAX_CACHE = 5000;

export const short = (sha: string, n = 8) => sha.slice(0, n);

/** Caches `v` under `k`, dropping the oldest entry when the cache is full. */
export function remember<K, V>(m: Map<K, V>, k: K, v: V): V {
  if (m.size >= MAX_CACHE) m.delete(m.keys().next().value as K);
  m.set(k, v);
  return v;
}

/** The mirror, cloned on first use. */
export async function ensureReady(ctx: ChartContext): Promise<void> {
  try {
    await ctx.mirror.ready();
  } catch (e) {
    throw new ShaError("git", `Cannot clone ${ctx.cfg.github} (${ctx.cfg.name}): ${(e as Error).message}`);
  }
}

export async function fetchMirror(ctx: ChartContext): Promise<void> {
  try {
    await ctx.mirror.fetch();
  } catch (e) {
    // Answer from what the mirror has; say so only if that is not enough.
    ctx.log.warn({ chart: ctx.cfg.name, err: (e as Error).message }, "mirror fetch failed");
    throw new ShaError("git", `Cannot fetch ${ctx.cfg.github}: ${(e as Error).message}`);
  }
}

/** Fetches when the mirror is older than mirrors.maxAgeSeconds (for "latest" questions). */
export async function freshen(ctx: ChartContext): Promise<void> {
  const last = ctx.mirror.lastFetch;
  const age = last ? ctx.now().getTime() - last.getTime() : Number.POSITIVE_INFINITY;
  if (age < ctx.maxAgeMs) return;
  await fetchMirror(ctx);
}

/** The chart index, or null (logged) when there is no copy of it at all. */
export async function snapshot(ctx: ChartContext): Promise<IndexSnapshot | null> {
  try {
    return await ctx.index.get();
  } catch (e) {
    ctx.log.warn({ chart: ctx.cfg.name, err: (e as Error).message }, "chart index unavailable");
    return null;
  }
}

/** Parents, committer date and subject of a commit, read through the cat-file helper. */
export async function commitInfo(ctx: ChartContext, sha: string): Promise<CommitInfo> {
  const hit = ctx.commits.get(sha);
  if (hit) return hit;
  const text = await ctx.mirror.git.readCommit(sha);
  if (text === null) throw new ShaError("unknown-ref", `No commit ${sha} in ${ctx.cfg.github}.`);
  const nl = text.indexOf("\n\n");
  const head = nl < 0 ? text : text.slice(0, nl);
  const parents: string[] = [];
  let date = "";
  for (const line of head.split("\n")) {
    if (line.startsWith("parent ")) parents.push(line.slice(7).trim());
    else if (line.startsWith("committer ")) {
      const m = / (\d+) ([+-]\d{4})$/.exec(line);
      if (m) date = new Date(Number(m[1]) * 1000).toISOString();
    }
  }
  const subject = nl < 0 ? "" : (text.slice(nl + 2).split("\n")[0] ?? "");
  return remember(ctx.commits, sha, { sha, parents, date, subject });
}
