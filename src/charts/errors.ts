/**
 * The one error type of src/charts/, shared by every layer (git, index, rule, answer): a problem of
 * a known kind with its data. The sentences people read are made from it in src/commands/sha-text.ts
 * (`shaErrorText`); the error's own message is only for logs. A leaf module: it imports nothing.
 */

/** The error kinds `ask --json` reports as `data.error`. */
export type ShaErrorCode =
  | "unknown-ref"
  | "ambiguous"
  | "github"
  | "git"
  | "no-chartpress"
  | "not-merged"
  | "pr-not-merged"
  | "unknown-chart";

/** A commit as an ambiguous hash's candidates list it. */
export interface Candidate {
  sha: string;
  /** committer date, ISO */
  date: string;
  subject: string;
}

/** What went wrong, with what a sentence about it needs. `repo` is owner/name on GitHub. */
export type ShaProblem =
  /** the text is not 7–40 hex digits */
  | { kind: "not-a-hash"; input: string }
  /** a full SHA the mirror has no commit for */
  | { kind: "no-commit"; repo: string; sha: string }
  /** no commit starts with `prefix`, even after a fetch (`fetchError`: the fetch failed) */
  | { kind: "unknown-commit"; repo: string; prefix: string; fetchError: string | null }
  /** several commits start with `prefix`: all their SHAs, and the first ten described */
  | { kind: "ambiguous"; repo: string; prefix: string; shas: string[]; candidates: Candidate[] }
  | { kind: "no-branch"; repo: string; name: string }
  /** a PR of another repository than the chart's */
  | { kind: "pr-elsewhere"; prRepo: string; chart: string; repo: string }
  /** GitHub could not be asked, or said no (`line`: its answer, one line) */
  | { kind: "github"; line: string }
  | { kind: "pr-not-merged"; pr: number; state: string | null }
  /** a merged PR whose merge commit is not in the mirror even after a fetch */
  | { kind: "pr-merge-missing"; repo: string; pr: number; sha: string }
  | { kind: "clone-failed"; repo: string; chart: string; error: string }
  | { kind: "fetch-failed"; repo: string; error: string }
  /** no chartpress.yaml or build.py next to the chart (`fixedDir`: the configured folder, else null) */
  | { kind: "no-chartpress"; chart: string; commit: string; fixedDir: string | null }
  /** a pre-chartpress build script whose chart paths cannot be read */
  | { kind: "unreadable-build-script"; chart: string; commit: string; script: string }
  | { kind: "bad-chartpress-yaml"; commit: string; error: string }
  /** no commit up to `commit` touches the chart paths */
  | { kind: "no-chart-change"; commit: string; paths: string[] }
  /** no default-branch commit contains `commit`; the branches and PRs that do */
  | { kind: "not-merged"; commit: string; branch: string; branches: string[]; prs: number[] }
  | { kind: "unknown-chart"; chart: string; charts: string[] };

const CODE: Record<ShaProblem["kind"], ShaErrorCode> = {
  "not-a-hash": "unknown-ref",
  "no-commit": "unknown-ref",
  "unknown-commit": "unknown-ref",
  ambiguous: "ambiguous",
  "no-branch": "unknown-ref",
  "pr-elsewhere": "unknown-ref",
  github: "github",
  "pr-not-merged": "pr-not-merged",
  "pr-merge-missing": "unknown-ref",
  "clone-failed": "git",
  "fetch-failed": "git",
  "no-chartpress": "no-chartpress",
  "unreadable-build-script": "no-chartpress",
  "bad-chartpress-yaml": "no-chartpress",
  "no-chart-change": "no-chartpress",
  "not-merged": "not-merged",
  "unknown-chart": "unknown-chart",
};

/** A failure of a known kind (never a stack trace in chat). */
export class ShaError extends Error {
  /** The kind `ask --json` reports. */
  readonly code: ShaErrorCode;
  /**
   * Fields an `ask --json` error carries besides the kind: the candidates of an ambiguous hash, the
   * branches and PRs of an unmerged commit, a PR's state.
   */
  readonly data: Record<string, unknown>;

  constructor(readonly problem: ShaProblem) {
    const { kind, ...rest } = problem;
    super(`${kind} ${JSON.stringify(rest)}`);
    this.name = "ShaError";
    this.code = CODE[kind];
    this.data =
      problem.kind === "ambiguous"
        ? { candidates: problem.shas }
        : problem.kind === "not-merged"
          ? { commit: problem.commit, branches: problem.branches, prs: problem.prs }
          : problem.kind === "pr-not-merged"
            ? { pr: problem.pr, state: problem.state }
            : {};
  }
}
