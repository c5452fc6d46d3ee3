// One function each, not the whole package: `import "semver"` loads ~50 files, which every start pays.
import semverRcompare from "semver/functions/rcompare.js";
import semverValid from "semver/functions/valid.js";
import { isSha } from "../../core/ref.ts";
import type { RawIndex } from "./parse.ts";
import { parseChartVersion, shaMatches } from "./version-format.ts";

/** The published chart index as the bot reads it: entries by chart, version and SHA prefix. */

export interface IndexEntry {
  chart: string;
  version: string;
  created: string | null;
  digest: string | null;
  urls: string[];
  /** Lower-case hex hash embedded in the version (7–12 chars), any historical format; null for a tag. */
  sha: string | null;
  /** The commit count written in the version, when the format has one (see version-format.ts). */
  n: number | null;
}

export interface IndexSnapshot {
  /** Last time the content was confirmed by the source (a 200 or a 304). */
  fetchedAt: Date;
  /** True: the last refresh failed and this is the last good copy. */
  stale: boolean;
  /** Why the last refresh failed, when stale. */
  error: string | null;
  /** The index's own `generated:` time (ISO), when it has one: what the copy knows of is up to then. */
  generated: string | null;
  /** Entries of a chart, newest `created` first. */
  versions(chart: string): IndexEntry[];
  byVersion(chart: string, version: string): IndexEntry | undefined;
  /**
   * Entries whose embedded hash is a prefix of `sha` (a full or abbreviated hash, >= 7 chars), or
   * that `sha` is a prefix of. Empty for fewer than 7 hex digits.
   */
  bySha(chart: string, sha: string): IndexEntry[];
  /** Hash length of the newest published entry that has one (7 until 2024-08 for binderhub, 8 since). */
  newestHashLength(chart: string): number | null;
  charts(): string[];
}

const SHA_KEY_LEN = 7;

/** The parsed content of one body; shared by every snapshot view of it. */
export class ParsedIndex {
  readonly #byChart = new Map<string, IndexEntry[]>();
  readonly #byVersion = new Map<string, Map<string, IndexEntry>>();
  readonly #byShaKey = new Map<string, Map<string, IndexEntry[]>>();
  readonly #hashLen = new Map<string, number | null>();

  readonly generated: string | null;

  constructor(raw: RawIndex) {
    this.generated = raw.generated ?? null;
    for (const [chart, rows] of raw) {
      const list: IndexEntry[] = [];
      const versions = new Map<string, IndexEntry>();
      const shas = new Map<string, IndexEntry[]>();
      for (const r of rows) {
        const parts = parseChartVersion(r.version);
        const e: IndexEntry = {
          chart,
          version: r.version,
          created: r.created,
          digest: r.digest,
          urls: r.urls,
          sha: parts.sha,
          n: parts.n,
        };
        list.push(e);
        if (!versions.has(e.version)) versions.set(e.version, e);
        if (e.sha) {
          const k = e.sha.slice(0, SHA_KEY_LEN);
          const bucket = shas.get(k);
          if (bucket) bucket.push(e);
          else shas.set(k, [e]);
        }
      }
      list.sort(newestFirst);
      this.#byChart.set(chart, list);
      this.#byVersion.set(chart, versions);
      this.#byShaKey.set(chart, shas);
      this.#hashLen.set(chart, list.find((e) => e.sha)?.sha?.length ?? null);
    }
  }

  versions(chart: string): IndexEntry[] {
    return this.#byChart.get(chart) ?? [];
  }
  byVersion(chart: string, version: string): IndexEntry | undefined {
    return this.#byVersion.get(chart)?.get(version);
  }
  bySha(chart: string, sha: string): IndexEntry[] {
    const s = sha.trim().toLowerCase();
    if (!isSha(s)) return [];
    const bucket = this.#byShaKey.get(chart)?.get(s.slice(0, SHA_KEY_LEN));
    if (!bucket) return [];
    return bucket.filter((e) => shaMatches(e.sha!, s));
  }
  newestHashLength(chart: string): number | null {
    return this.#hashLen.get(chart) ?? null;
  }
  charts(): string[] {
    return [...this.#byChart.keys()];
  }
}

function createdMs(e: IndexEntry): number {
  if (!e.created) return Number.NEGATIVE_INFINITY;
  const t = Date.parse(e.created);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Newest `created` first; same time (or none) → higher SemVer first; then by version text. */
function newestFirst(a: IndexEntry, b: IndexEntry): number {
  const d = createdMs(b) - createdMs(a);
  if (d !== 0 && !Number.isNaN(d)) return d;
  const va = semverValid(a.version, { loose: true });
  const vb = semverValid(b.version, { loose: true });
  if (va && vb) {
    const c = semverRcompare(va, vb, { loose: true });
    if (c !== 0) return c;
  } else if (va || vb) return va ? -1 : 1;
  return a.version < b.version ? 1 : a.version > b.version ? -1 : 0;
}

export function snapshot(parsed: ParsedIndex, fetchedAt: Date, stale: boolean, error: string | null): IndexSnapshot {
  return {
    fetchedAt,
    stale,
    error,
    generated: parsed.generated,
    versions: (c) => parsed.versions(c),
    byVersion: (c, v) => parsed.byVersion(c, v),
    bySha: (c, s) => parsed.bySha(c, s),
    newestHashLength: (c) => parsed.newestHashLength(c),
    charts: () => parsed.charts(),
  };
}
