/**
 * The one error type of src/charts/, shared by every layer (git, index, rule, answer): a kind that
 * callers switch on, and the data that goes with it. It is a leaf module: it imports nothing.
 */

export type ShaErrorCode =
  | "unknown-ref"
  | "ambiguous"
  | "github"
  | "git"
  | "no-chartpress"
  | "not-merged"
  | "pr-not-merged"
  | "unknown-chart";

/** A failure with one clear line for chat (never a stack trace). */
export class ShaError extends Error {
  constructor(
    readonly code: ShaErrorCode,
    message: string,
    readonly detail: string[] = [],
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ShaError";
  }
}

/** A commit as messages name it: its first `n` hex digits. */
export const short = (sha: string, n = 8) => sha.slice(0, n);
