import type { HistoryView } from "../git/history.ts";
import { builtFor, type Repo } from "../git/repo.ts";
import type { IndexEntry, IndexSnapshot } from "../index/chart-index.ts";
import type { Computation } from "../rule/compute.ts";
import { chartVersion } from "../rule/version.ts";
import type { Chart } from "./chart.ts";
import type { ShaAnswer, ShaRelation } from "./types.ts";

/** The PR number named by a merge commit's subject ("Merge pull request #395 …", "… (#1877)"). */
export function prFromSubject(subject: string): number | null {
  const m = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return m ? Number(m[1]) : null;
}

/**
 * The hash length CI's `%h` had when `date`'s commit was built: that of the first entry published
 * at or after that time; for a commit newer than every entry, the newest entries' length.
 */
export function predictHashLength(snap: IndexSnapshot | null, chart: string, date: string): number {
  if (!snap) return 7;
  const t = Date.parse(date);
  const list = snap.versions(chart); // newest created first
  let candidate: number | null = null;
  for (const e of list) {
    if (!e.sha || !e.created) continue;
    const c = Date.parse(e.created);
    if (Number.isNaN(c)) continue;
    if (c >= t) candidate = e.sha.length;
    else break;
  }
  return candidate ?? snap.newestHashLength(chart) ?? 7;
}

/** What a CI build of `built` made: the rule, the published entry it matches, the version. */
export interface Build {
  c: Computation;
  entry: IndexEntry | null;
  /** The rule's version is the published entry's. */
  exact: boolean;
  hashLength: number;
  /** The rule's version with that hash length. */
  computed: string;
}

/** The rule at a built commit (any branch push), with the tags of `view`, matched against the index. */
export async function buildOf(chart: Chart, view: HistoryView, built: string, snap: IndexSnapshot | null): Promise<Build> {
  const name = chart.cfg.name;
  let c = await chart.rule.computeAt(view, built);
  const predicted = predictHashLength(snap, name, c.builtInfo.date);
  let pick = publishedEntry(snap, name, c, predicted);
  const builtAt = Date.parse(c.builtInfo.date);
  // This build published it: the rule's version of this very commit, created after the build.
  const madeHere = pick.exact && c.chartCommit === built && Date.parse(pick.entry?.created ?? "") >= builtAt;
  if (!madeHere && c.lateTags.length) {
    // A tag made just after the build may have been pushed with it (a release commit and its tag):
    // take the rule with it when that is published (z2jh 0.10.5-n000.h4f739e88, while the rule
    // without the tag gives 0.10.4-n009.hdf9328db, published by an earlier build).
    const late = await chart.rule.computeAt(view, built, true);
    const p = publishedEntry(snap, name, late, predicted);
    if (p.exact) [c, pick] = [late, p];
  }
  const hashLength = pick.entry?.sha?.length ?? predicted;
  return { c, entry: pick.entry, exact: pick.exact, hashLength, computed: chartVersion({ ...versionInputs(c), hashLength }) };
}

/**
 * The answer for a resolved commit: the rule at the commit CI built, the published entry, and why.
 * One view of history (`view` when given, else the current one) serves the whole answer.
 */
export async function answerFor(
  chart: Chart,
  commit: string,
  snap: IndexSnapshot | null,
  askedPr: number | null,
  at?: HistoryView,
): Promise<ShaAnswer> {
  const { built, onFirstParent, view } = await builtFor(chart.repo, commit, at);
  const name = chart.cfg.name;
  const { c, entry, hashLength, computed } = await buildOf(chart, view, built, snap);
  const builtInfo = c.builtInfo;
  const pr = askedPr ?? prFromSubject(builtInfo.subject);
  const { relation, why: because } = await why(chart.repo, commit, c, onFirstParent);
  const minutesSinceMerge = Math.max(0, Math.floor((chart.repo.now().getTime() - Date.parse(builtInfo.date)) / 60_000));
  const generated = snap?.generated ?? null;
  const olderThanMerge = entry === null && generated !== null && Date.parse(generated) < Date.parse(builtInfo.date);
  return {
    chart: name,
    commit,
    builtCommit: built,
    chartCommit: c.chartCommit,
    relation,
    why: because,
    pr,
    version: entry ? entry.version : computed,
    computed,
    published: entry !== null,
    publishedAt: entry?.created ?? null,
    entry,
    builder: c.builder,
    paths: c.paths,
    mergedAt: builtInfo.date,
    minutesSinceMerge,
    hashLength,
    index: {
      source: chart.index.source,
      fetchedAt: snap ? snap.fetchedAt.toISOString() : null,
      stale: snap ? snap.stale || olderThanMerge : true,
      error: snap ? snap.error : (chart.index.lastError ?? "no copy of the index"),
      generated,
      olderThanMerge,
    },
    pin: null,
  };
}

/** What chartVersion needs from a computation, but the hash length. */
function versionInputs(c: Computation) {
  return {
    generation: c.generation,
    chartCommit: c.chartCommit,
    count: c.count ?? 0,
    describe: c.describe,
    baseVersion: c.baseVersion,
    chartYamlVersion: c.chartYamlVersion,
    long: c.long,
  };
}

/**
 * The published entry for the computation's chart commit, whatever its format (`exact`: the rule
 * gives that version). Several builds can publish one chart commit: prefer what this build made,
 * with its era's hash length (z2jh published dd4fd8b from its own build, dd4fd8bd from a later one).
 */
function publishedEntry(
  snap: IndexSnapshot | null,
  chart: string,
  c: Computation,
  predicted: number,
): { entry: IndexEntry | null; exact: boolean } {
  const hits = snap ? snap.bySha(chart, c.chartCommit) : [];
  if (!hits.length) return { entry: null, exact: false };
  const inputs = versionInputs(c);
  const exact = hits.filter((h) => h.sha && chartVersion({ ...inputs, hashLength: h.sha.length }) === h.version);
  const best = exact.find((h) => h.sha?.length === predicted) ?? exact[0];
  if (best) return { entry: best, exact: true };
  const newest = [...hits].sort((a, b) => (Date.parse(b.created ?? "") || 0) - (Date.parse(a.created ?? "") || 0))[0];
  return { entry: newest ?? null, exact: false };
}

/** Why the chart commit is what it is: the relation, and what it rests on. */
async function why(
  repo: Repo,
  commit: string,
  c: Computation,
  onFirstParent: boolean,
): Promise<{ relation: ShaRelation; why: ShaAnswer["why"] }> {
  const parents = c.builtInfo.parents;
  const base = { onFirstParent, viaTag: c.viaTag, parent: null, merge: false };
  if (c.viaTag && c.chartCommit === commit) return { relation: "tag", why: base };
  if (c.chartCommit === commit) return { relation: "chart-commit", why: base };
  if (!onFirstParent) return { relation: "pr-branch", why: base };
  if (c.viaTag) return { relation: "tag", why: base };
  let same = -1;
  if (parents.length > 1) {
    for (let i = 0; i < parents.length; i++) {
      if (await sameOnPaths(repo, parents[i] as string, commit, c.paths)) {
        same = i;
        break;
      }
    }
  }
  if (same >= 1) return { relation: "merge-same-as-parent", why: { ...base, parent: parents[same] as string } };
  return { relation: "outside-chart-paths", why: { ...base, merge: same === 0 } };
}

/** Whether two commits have the same content under the pathspecs (git's TREESAME). */
async function sameOnPaths(repo: Repo, a: string, b: string, paths: string[]): Promise<boolean> {
  const git = repo.mirror.git;
  if (paths.some((p) => /[*?[\]\\:]/.test(p))) {
    const r = await git.run(["diff-tree", "--quiet", "-r", "--end-of-options", a, b, "--", ...paths], { okCodes: [1] });
    return r.code === 0;
  }
  const pairs = await Promise.all(paths.map((p) => Promise.all([git.pathOid(a, p), git.pathOid(b, p)])));
  return pairs.every(([x, y]) => (x?.oid ?? null) === (y?.oid ?? null));
}
