/** One chart's deploy state: what is pinned, what is newest, and what lies between. */

import type { IndexEntry } from "../charts/index/chart-index.ts";
import { chartErrorLine, explanationText } from "../commands/sha-text.ts";
import type { Services } from "../services.ts";
import { DeployFileError, readDeployFile } from "./deploy-file.ts";
import { PinEditError, pinnedIn } from "./pin-edit.ts";
import { publishedBetween, type UpstreamPr, upstreamPrs } from "./upstream.ts";

export interface ChartStatus {
  chart: string;
  /** Pinned on the deploy repository's default branch (null: unknown, see pinError). */
  pinned: string | null;
  pinError: string | null;
  /** The newest published version (by the index's `created`). */
  newest: IndexEntry | null;
  indexError: string | null;
  /** Published versions after the pin up to the newest; null when it cannot be told. */
  versionsBehind: number | null;
  /** Upstream PRs merged between the two chart commits, newest first; null when not known (see prsError). */
  prs: UpstreamPr[] | null;
  prsError: string | null;
  /** The default-branch commits the pin and the newest version were built from, when known. */
  pinnedCommit: string | null;
  newestCommit: string | null;
}

type Deps = Pick<Services, "charts" | "config" | "github">;

/** What the deploy repository pins for `chart` on its default branch. */
async function readPinned(s: Deps, chart: string): Promise<{ version: string | null; error: string | null }> {
  const d = s.config.deploy;
  try {
    const f = await readDeployFile(s.github, d.github, d.chartFile, d.branch);
    const version = pinnedIn(f.text, chart);
    return { version, error: version === null ? `${d.chartFile} has no ${chart} dependency` : null };
  } catch (e) {
    if (e instanceof DeployFileError || e instanceof PinEditError) return { version: null, error: e.message };
    throw e;
  }
}

/** The newest published version of a chart, or the reason there is none to give. */
async function newestPublished(s: Deps, chart: string): Promise<{ entry: IndexEntry | null; error: string | null }> {
  try {
    const snap = await s.charts.index(chart).get();
    const entry = snap.versions(chart)[0] ?? null;
    return { entry, error: entry ? null : `the chart index has no ${chart} versions` };
  } catch (e) {
    return { entry: null, error: chartErrorLine(e) };
  }
}

/**
 * The default-branch commit CI built a chart version from, through the sha engine: the commit the
 * version names, and for a commit of a PR branch the merge that brought it in (null with the reason).
 */
async function versionCommit(s: Deps, chart: string, version: string): Promise<{ sha: string | null; error: string | null }> {
  try {
    const x = await s.charts.explainVersion(chart, version);
    if (!x.sha) return { sha: null, error: explanationText(x) };
    return { sha: (await s.charts.answerCommit(chart, x.sha)).builtCommit, error: null };
  } catch (e) {
    return { sha: null, error: chartErrorLine(e) };
  }
}

/** PRs between two chart versions' commits (newest first), or why they cannot be listed. */
export async function prsBetween(
  s: Deps,
  chart: string,
  from: string,
  to: string,
): Promise<{ prs: UpstreamPr[] | null; error: string | null; fromCommit: string | null; toCommit: string | null }> {
  const [a, b] = await Promise.all([versionCommit(s, chart, from), versionCommit(s, chart, to)]);
  if (!a.sha || !b.sha) return { prs: null, error: a.error ?? b.error, fromCommit: a.sha, toCommit: b.sha };
  try {
    return { prs: await upstreamPrs(s.charts.mirror(chart), a.sha, b.sha), error: null, fromCommit: a.sha, toCommit: b.sha };
  } catch (e) {
    return { prs: null, error: (e as Error).message, fromCommit: a.sha, toCommit: b.sha };
  }
}

export async function chartStatus(s: Deps, chart: string): Promise<ChartStatus> {
  const [pin, newest] = await Promise.all([readPinned(s, chart), newestPublished(s, chart)]);
  const out: ChartStatus = {
    chart,
    pinned: pin.version,
    pinError: pin.error,
    newest: newest.entry,
    indexError: newest.error,
    versionsBehind: null,
    prs: null,
    prsError: null,
    pinnedCommit: null,
    newestCommit: null,
  };
  if (!pin.version || !newest.entry) return out;
  if (pin.version === newest.entry.version) {
    out.versionsBehind = 0;
    out.prs = [];
    return out;
  }
  const snap = await s.charts.index(chart).get();
  out.versionsBehind = publishedBetween(snap, chart, pin.version, newest.entry.version)?.length ?? null;
  const between = await prsBetween(s, chart, pin.version, newest.entry.version);
  out.prs = between.prs;
  out.prsError = between.error;
  out.pinnedCommit = between.fromCommit;
  out.newestCommit = between.toCommit;
  return out;
}
