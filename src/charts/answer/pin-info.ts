/** The deploy repository's pin, next to an answer: read it, wait for it briefly, compare. */

import type { Config } from "../../config/schema.ts";
import { GITHUB_SLOW, githubErrorLine } from "../../github/client.ts";
import type { IndexSnapshot } from "../index/chart-index.ts";
import { PinError, type PinReader, pinLine } from "../index/deploy-pin.ts";
import type { PinInfo, ShaAnswer } from "./types.ts";

type Deploy = Config["deploy"];
type PinRead = { version: string | null; error: string | null };

/** How long an answer waits for the deploy pin before saying it is unknown. */
export const PIN_WAIT_MS = 4000;

/** What the deploy repository pins for `chart` now; never rejects (the error is a line). */
export async function readPin(pins: PinReader, d: Deploy, chart: string): Promise<PinRead> {
  try {
    const p = await pins.read({ repo: d.github, file: d.chartFile, branch: d.branch }, chart);
    return { version: p.version, error: p.version === null ? `${d.chartFile} has no ${chart} dependency` : null };
  } catch (e) {
    return { version: null, error: e instanceof PinError ? e.message : githubErrorLine(e) };
  }
}

/** The pin for an answer. The pin is a side note: never let a slow GitHub hold the answer for long. */
export async function pinInfo(
  pinP: Promise<PinRead>,
  a: ShaAnswer,
  snap: IndexSnapshot | null,
  d: Deploy,
  waitMs = PIN_WAIT_MS,
): Promise<PinInfo> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<PinRead>((ok) => {
    timer = setTimeout(() => ok({ version: null, error: GITHUB_SLOW }), waitMs);
  });
  const p = await Promise.race([pinP, late]);
  clearTimeout(timer);
  return {
    repo: d.github,
    file: d.chartFile,
    branch: d.branch,
    pinned: p.version,
    line: pinLine(a.version),
    behind: p.version && snap ? versionsBetween(snap, a.chart, p.version, a) : null,
    error: p.error,
  };
}

/**
 * Counts already made, per parsed index (its entry list of a chart, the same array until the index
 * changes): a repeated question would otherwise parse every entry's date again (~700 for binderhub).
 */
const counted = new WeakMap<readonly unknown[], Map<string, number | null>>();

/** Published versions created after the pin, up to and including the answer (see PinInfo.behind). */
function versionsBetween(snap: IndexSnapshot, chart: string, pinned: string, a: ShaAnswer): number | null {
  if (pinned === a.version) return 0;
  const list = snap.versions(chart);
  let memo = counted.get(list);
  if (!memo || memo.size > 1000) {
    memo = new Map();
    counted.set(list, memo);
  }
  const key = `${pinned}\0${a.version}\0${a.publishedAt ?? ""}\0${a.published}`;
  if (memo.has(key)) return memo.get(key) ?? null;
  const n = countBetween(snap, chart, pinned, a);
  memo.set(key, n);
  return n;
}

function countBetween(snap: IndexSnapshot, chart: string, pinned: string, a: ShaAnswer): number | null {
  const p = snap.byVersion(chart, pinned);
  if (!p?.created) return null;
  const from = Date.parse(p.created);
  const to = a.publishedAt ? Date.parse(a.publishedAt) : Number.POSITIVE_INFINITY;
  const list = snap.versions(chart);
  const seen = new Set<string>();
  if (to < from) {
    for (const e of list) {
      const c = Date.parse(e.created ?? "");
      if (c > to && c <= from) seen.add(e.version);
    }
    return -seen.size;
  }
  for (const e of list) {
    const c = Date.parse(e.created ?? "");
    if (c > from && c <= to) seen.add(e.version);
  }
  return seen.size + (a.published ? 0 : 1);
}
