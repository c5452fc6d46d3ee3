/** The upstream pull requests between two chart commits, read from the chart repository's history. */

import type { IndexEntry, IndexSnapshot } from "../charts/index/chart-index.ts";

export interface UpstreamPr {
  number: number;
  title: string;
  /** The commit on the default branch that brought it in (merge or squash commit). */
  sha: string;
}

/** What `upstreamPrs` needs of a chart's mirror (src/charts/git/mirror.ts). */
export interface HistoryReader {
  ready(): Promise<void>;
  git: { run(args: readonly string[], opts?: { okCodes?: readonly number[] }): Promise<{ stdout: string; code: number }> };
}

const MERGE = /^Merge pull request #(\d+) from \S+/;
const SQUASH = /^(.*?)\s*\(#(\d+)\)$/;
const FIELD = "\x1f";
const RECORD = "\x1e";

/**
 * PRs merged on the default branch's first-parent line from `from` (exclusive) to `to` (inclusive),
 * both commits of that line (the commits CI built the two charts from): GitHub merge
 * commits ("Merge pull request #N from …", the title is the body's first line) and squash merges
 * ("Title (#N)"). Newest first. `from` and `to` are full SHAs the mirror has.
 */
export async function upstreamPrs(history: HistoryReader, from: string, to: string): Promise<UpstreamPr[]> {
  await history.ready();
  const r = await history.git.run([
    "log",
    "--first-parent",
    `--format=%H${FIELD}%s${FIELD}%b${RECORD}`,
    "--end-of-options",
    `${from}..${to}`,
  ]);
  const out: UpstreamPr[] = [];
  const seen = new Set<number>();
  for (const rec of r.stdout.split(RECORD)) {
    const [sha, subject, body] = rec.replace(/^\n+/, "").split(FIELD) as [string, string?, string?];
    if (!sha || subject === undefined) continue;
    let pr: UpstreamPr | null = null;
    const m = MERGE.exec(subject);
    if (m) {
      const title = (body ?? "").split("\n").find((l) => l.trim() !== "") ?? subject;
      pr = { number: Number(m[1]), title: title.trim(), sha };
    } else {
      const s = SQUASH.exec(subject);
      if (s) pr = { number: Number(s[2]), title: s[1] ?? subject, sha };
    }
    if (pr && !seen.has(pr.number)) {
      seen.add(pr.number);
      out.push(pr);
    }
  }
  return out;
}

/** Published versions created after `from` and up to `to` (by the index's `created`); null when either is unknown. */
export function publishedBetween(snap: IndexSnapshot, chart: string, from: string, to: string): IndexEntry[] | null {
  const a = snap.byVersion(chart, from);
  const b = snap.byVersion(chart, to);
  if (!a?.created || !b?.created) return null;
  const lo = Date.parse(a.created);
  const hi = Date.parse(b.created);
  if (from === to) return [];
  return snap.versions(chart).filter((e) => {
    const t = Date.parse(e.created ?? "");
    return t > lo && t <= hi;
  });
}
