/** Which chart version a bump pins: the newest published, a published version, or a ref's chart. */

import { ShaError } from "../charts/errors.ts";
import type { IndexEntry } from "../charts/index/chart-index.ts";
import { chartErrorLine, explanationText, shaErrorText } from "../commands/sha-text.ts";
import { parseRef } from "../core/ref.ts";
import type { Services } from "../services.ts";

export type BumpTarget =
  | { ok: true; version: string; entry: IndexEntry; how: string }
  /** Refused: nothing is written; `reason` is one line for chat. */
  | { ok: false; reason: string };

type Deps = Pick<Services, "charts">;

/** A chart version as chartpress writes them (`1.0.0-0.dev.git.3506.hba24eb2a`, `0.2.0-n645.h06139f0`, `1.0.0`). */
const VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/**
 * Resolves what the person asked for to a published version. Nothing unpublished or unknown is
 * ever returned: a bump to it would break the deploy (the 2018 incident's pinned-but-missing chart).
 */
export async function bumpTarget(s: Deps, chart: string, asked: string | undefined): Promise<BumpTarget> {
  const index = s.charts.index(chart);
  let snap: Awaited<ReturnType<typeof index.get>>;
  try {
    snap = await index.get({ maxAgeMs: 0 });
  } catch (e) {
    return { ok: false, reason: `I cannot read the chart index, so I cannot tell what is published: ${(e as Error).message}` };
  }
  if (asked === undefined) {
    const newest = snap.versions(chart)[0];
    if (!newest) return { ok: false, reason: `The chart index has no ${chart} versions.` };
    return { ok: true, version: newest.version, entry: newest, how: "the newest published version" };
  }
  if (VERSION.test(asked)) {
    const entry = snap.byVersion(chart, asked);
    if (entry) return { ok: true, version: asked, entry, how: "the version asked for" };
    const why = await s.charts.explainVersion(chart, asked).then(explanationText, chartErrorLine);
    return { ok: false, reason: `${asked} is not a published ${chart} chart, so I will not pin it: ${why}` };
  }
  const ref = parseRef(asked);
  if ("error" in ref) return { ok: false, reason: `'${asked}' is neither a chart version nor a ref: ${ref.error}.` };
  try {
    const a = await s.charts.answer(chart, ref, { pin: false });
    const label = `the chart of ${asked}${a.pr && !asked.includes(String(a.pr)) ? ` (#${a.pr})` : ""}`;
    if (!a.published || !a.entry) {
      const when = a.index.fetchedAt === null ? "the chart index is unreachable" : `merged ${a.minutesSinceMerge} min ago`;
      return {
        ok: false,
        reason: `${label} is ${a.version}, which is not published yet (${when}); I will not pin an unpublished chart. \`sha ${asked}\` says more.`,
      };
    }
    return { ok: true, version: a.version, entry: a.entry, how: label };
  } catch (e) {
    if (e instanceof ShaError) return { ok: false, reason: shaErrorText(e) };
    throw e;
  }
}
