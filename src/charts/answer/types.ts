import type { IndexEntry } from "../index/chart-index.ts";
import type { Builder } from "../rule/compute.ts";

/** How the chart commit relates to the commit that was asked about. */
export type ShaRelation =
  /** the commit asked about is itself the last commit touching the chart paths */
  | "chart-commit"
  /** a merge whose chart paths equal one parent's: git history simplification follows that parent (the 2018 case) */
  | "merge-same-as-parent"
  /** a default-branch commit that changed nothing under the chart paths */
  | "outside-chart-paths"
  /** a commit on a PR branch: CI built the first default-branch commit that contains it */
  | "pr-branch"
  /** chartpress took the latest tag, which is newer than the last change to the chart paths */
  | "tag";

/** The answer to "which chart version is this commit?", exactly as chartpress computed it. */
export interface ShaAnswer {
  chart: string;
  /** Full SHA of the commit asked about (after resolving a PR, branch or short hash). */
  commit: string;
  /** Full SHA of the default-branch commit CI built (== commit unless it is a PR-branch commit). */
  builtCommit: string;
  /** Full SHA of the chart commit (`git log -n1 -- <chart paths>` at builtCommit, or the tag). */
  chartCommit: string;
  relation: ShaRelation;
  /** What the relation rests on (src/commands/sha-text.ts says it in words). */
  why: {
    /** The commit asked about is on the default branch's first-parent chain (CI built it itself). */
    onFirstParent: boolean;
    /** The tag chartpress took, when a tag made the chart commit. */
    viaTag: string | null;
    /** "merge-same-as-parent": the parent whose chart paths the merge has. */
    parent: string | null;
    /** "outside-chart-paths": the commit is a merge that changed nothing under the chart paths. */
    merge: boolean;
  };
  /** PR number when known (asked as a PR, or read from the merge commit's subject). */
  pr: number | null;
  /** The version to pin: the published entry's when there is one, else the predicted one. */
  version: string;
  /** What the rule gives for this commit in the format of its chartpress era. */
  computed: string;
  published: boolean;
  publishedAt: string | null;
  entry: IndexEntry | null;
  /** What built the chart: the chartpress generation and its pin, or the pre-chartpress script. */
  builder: Builder;
  /** The chart paths given to `git log`, relative to the repository root. */
  paths: string[];
  /** Committer date of builtCommit (≈ when it was merged/pushed), ISO. */
  mergedAt: string;
  /** Whole minutes from mergedAt to now. */
  minutesSinceMerge: number;
  /** Hex digits of the hash in `version` (from the published entry, or predicted from the index). */
  hashLength: number;
  /**
   * Index freshness: when the copy was last confirmed, whether it is stale (a last-good copy after a
   * failed refresh, or a copy whose own `generated:` time is older than the merge), and why the
   * refresh failed. `fetchedAt` null: no copy at all (published status unknown).
   */
  index: {
    source: string;
    fetchedAt: string | null;
    stale: boolean;
    error: string | null;
    /** The index's own `generated:` time, when it has one. */
    generated: string | null;
    /** The copy was generated before the merge: it cannot know of this chart version yet. */
    olderThanMerge: boolean;
  };
  /**
   * Set when a PR was asked for and GitHub could not be asked (down, unreachable, rate-limited):
   * its merge was found in the history by its subject instead. `githubError`: GitHub's failure, one line.
   */
  foundWithoutGitHub?: { pr: number; githubError: string };
  /** The deploy repository's pin (filled by `answer`; null when not asked for or no deploy repo). */
  pin: PinInfo | null;
}

/** What a pinned-but-missing chart version most likely meant (for `why`). */
export interface VersionExplanation {
  /** The version explained. */
  version: string;
  /** The index entry for exactly this version, if there is one. */
  published: IndexEntry | null;
  /** Full SHA the version names, when it names one that exists in the repository. */
  sha: string | null;
  kind:
    | "published"
    | "merge-commit"
    | "pr-branch"
    | "not-chart-commit"
    | "wrong-format"
    | "not-published-yet"
    | "unknown-sha"
    | "no-sha";
  /** The chart that commit really has (null when there is none to offer). */
  correct: ShaAnswer | null;
  /** "pr-branch" without `correct`: the default branch the commit is not merged into. */
  branch: string | null;
  /** "unknown-sha": why the commit could not be found (a ShaError, or what else was thrown). */
  lookupError: Error | null;
}

/** The deploy repository's pin, next to an answer. */
export interface PinInfo {
  repo: string;
  file: string;
  branch: string;
  /** What is pinned now on the default branch (null: no such dependency, or unreadable). */
  pinned: string | null;
  /** The exact line to write under the chart's dependency. */
  line: string;
  /**
   * Published versions between the pin and the answer (by `created`): > 0 the pin is that many
   * versions behind; 0 it is the answer; < 0 the pin is newer. Null when it cannot be told.
   */
  behind: number | null;
  /** Why the pin could not be read (one line), else null. */
  error: string | null;
}

/** Usual delay from merge to a published chart (747 binderhub publishes): median and p90, minutes. */
export const PUBLISH_DELAY = { medianMin: 7, p90Min: 20 } as const;
