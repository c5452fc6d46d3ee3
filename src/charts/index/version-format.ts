/**
 * The commit hash and commit count that chartpress embeds in a chart version, for every format
 * chartpress has produced (see shared research, "Older formats"):
 *
 * | era | format | example |
 * |---|---|---|
 * | vendored build.py, chartpress <= 0.4 | `<tag>-<sha>` | `0.1.0-441f5ea`, `v0.4.0-abc1234` |
 * | chartpress 0.5 (2019-11/12) | `<tag>-<NNN>.<sha>` | `0.2.0-017.5aa671c`, `0.9.0-alpha.1.017.5aa671c` |
 * | chartpress 0.6 – 1.x | `<tag>-n<NNN>.h<sha>` | `0.2.0-n432.h687657b`, `1.0.0-beta.1.n001.h1234567` |
 * | chartpress >= 2.0 | `<base>.git.<N>.h<sha>` | `0.2.0-0.dev.git.2752.h3450e52`, `1.0.0-0.dev.git.3983.h383374de` |
 * | a tag | `<tag>` | `1.0.0`, `4.0.0-beta.4` → no hash |
 *
 * `n` is the number written in the version: commits since the last tag in the older formats,
 * `git rev-list --count <chart commit>` for chartpress >= 2.0. Its meaning depends on the era, so
 * callers should only compare it within one format.
 */
export interface VersionParts {
  /** Lower-case hex hash (7–12 characters) embedded in the version, or null for a plain tag. */
  sha: string | null;
  /** The commit count written in the version, when the format has one. */
  n: number | null;
  /** Which of the formats above matched. */
  format: "sha" | "count.sha" | "n.h" | "git.n.h" | "tag";
}

/** The hash in a version: `%h` as CI printed it, 7–12 hex digits (narrower than SHA_PATTERN in src/core/ref.ts). */
const HEX = /^[0-9a-f]{7,12}$/;
const H_HEX = /^h([0-9a-f]{7,12})$/;
const N_COUNT = /^n(\d+)$/;
const DIGITS = /^\d+$/;

const TAG: VersionParts = Object.freeze({ sha: null, n: null, format: "tag" }) as VersionParts;

/** Splits a chart version into its embedded hash and count. Never throws; unknown shapes are tags. */
export function parseChartVersion(version: string): VersionParts {
  const plus = version.indexOf("+");
  const core = plus >= 0 ? version.slice(0, plus) : version;
  const dash = core.indexOf("-");
  if (dash < 0) return TAG;
  const ids = core.slice(dash + 1).split(".");
  const last = ids[ids.length - 1]!.toLowerCase();
  const prev = ids.length >= 2 ? ids[ids.length - 2]! : undefined;

  const h = H_HEX.exec(last);
  if (h && prev !== undefined) {
    const nm = N_COUNT.exec(prev);
    if (nm) return { sha: h[1]!, n: Number(nm[1]), format: "n.h" };
    if (DIGITS.test(prev) && ids.length >= 3 && ids[ids.length - 3] === "git") {
      return { sha: h[1]!, n: Number(prev), format: "git.n.h" };
    }
  }
  if (HEX.test(last)) {
    // `0.1.0-441f5ea`: the whole pre-release is the hash.
    if (ids.length === 1) return { sha: last, n: null, format: "sha" };
    // `0.2.0-017.5aa671c`, `0.9.0-alpha.1.017.5aa671c`
    if (prev !== undefined && DIGITS.test(prev)) return { sha: last, n: Number(prev), format: "count.sha" };
  }
  return TAG;
}

/**
 * True when the hash in a version (`entrySha`, 7–12 chars) and a commit hash (`sha`, full or
 * abbreviated to >= 7 chars) name the same commit: one is a prefix of the other.
 */
export function shaMatches(entrySha: string, sha: string): boolean {
  const a = entrySha.toLowerCase();
  const b = sha.toLowerCase();
  if (a.length < 7 || b.length < 7) return false;
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}
