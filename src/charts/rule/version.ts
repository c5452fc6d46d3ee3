import type { Generation } from "./chartpress.ts";

/** Everything the rule needs once the chart commit is known. */
export interface VersionInputs {
  generation: Generation;
  /** Full SHA of the chart commit. */
  chartCommit: string;
  /** How many hex digits `%h` gave in CI's clone (7, later 8 for binderhub). */
  hashLength: number;
  /** `git rev-list --count <chart commit>`. */
  count: number;
  /** `git describe --tags --long <chart commit>`: the tag and commits since it; null when no tag. */
  describe: { tag: string; since: number } | null;
  /** `baseVersion` from chartpress.yaml (generation 5). */
  baseVersion?: string | undefined;
  /** Generation 0: `version` in `<chart>/Chart.yaml`. */
  chartYamlVersion?: string | undefined;
  /** chartpress was run with `--long`. */
  long?: boolean;
}

/**
 * The chart version chartpress computed, in the format of its generation (chartpress.py:
 * build_chart / _get_identifier_from_paths / _get_identifier_from_parts at each release).
 */
export function chartVersion(i: VersionInputs): string {
  const h = i.chartCommit.slice(0, i.hashLength);
  const long = i.long === true;
  switch (i.generation) {
    case 0: {
      const base = (i.chartYamlVersion ?? "0.0.1").split("-")[0];
      return `${base}-${h}`;
    }
    case 1:
    case 2:
    case 3:
    case 4: {
      // describe of the chart commit; without any tag chartpress used "0.0.1" and the full count.
      const tag = (i.describe?.tag ?? "0.0.1").replace(/^v/, "");
      const n = i.describe ? i.describe.since : i.count;
      if (n === 0 && !long) return tag;
      const nnn = String(n).padStart(3, "0");
      const suffix = i.generation <= 2 ? `${nnn}.${h}` : `n${nnn}.h${h}`;
      return tag.includes("-") ? `${tag}.${suffix}` : `${tag}-${suffix}`;
    }
    case 5: {
      let base = i.baseVersion ?? null;
      let n = i.count;
      if (i.describe) {
        if (i.describe.since === 0) {
          // exactly on a tag: the tag, not baseVersion (and nothing else unless --long)
          base = i.describe.tag;
          if (!long) n = 0;
        }
        base ??= i.describe.tag;
      }
      base ??= "0.0.1-0.dev";
      if (n === 0 && !long) return base;
      return base.includes("-") ? `${base}.git.${n}.h${h}` : `${base}-0.dev.git.${n}.h${h}`;
    }
  }
}
