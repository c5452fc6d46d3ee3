/**
 * What users type to name a commit. Validated here so that nothing a user types can ever reach
 * git as an option or a revision expression.
 */
export type UserRef =
  | { kind: "sha"; sha: string }
  | { kind: "pr"; number: number; repo?: string }
  | { kind: "branch"; name: string };

/**
 * A commit hash as people and tools write it: 7 (git's shortest abbreviation) to 40 hex digits.
 * The source text, without anchors or flags, for building larger patterns; lower case as git prints
 * it (add the "i" flag where users type it). The one definition: every SHA pattern derives from it.
 */
export const SHA_PATTERN = "[0-9a-f]{7,40}";
/** A whole commit hash as git prints it in full: 40 lower-case hex digits. */
export const FULL_SHA_PATTERN = "[0-9a-f]{40}";

const SHA = new RegExp(`^${SHA_PATTERN}$`, "i");

/** Whether `s` is a commit hash, abbreviated or full, in either case. */
export function isSha(s: string): boolean {
  return SHA.test(s);
}

const PR_URL = /^<?https?:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)(?:[/?#][^\s>]*)?>?$/i;
const COMMIT_URL = new RegExp(
  String.raw`^<?https?:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/commit\/(${SHA_PATTERN})(?:[/?#][^\s>]*)?>?$`,
  "i",
);
/** git check-ref-format, conservatively: no leading '-' or '.', no '..', '@{', control chars or specials. */
const BRANCH = /^(?![-./])(?!.*(?:\.\.|@\{|\/\/|\/\.|\.lock$|\.$|\/$))[A-Za-z0-9._/+-]{1,200}$/;

export function parseRef(input: string): UserRef | { error: string } {
  const s = input.trim();
  if (s === "") return { error: "empty ref" };
  const hash = /^#(\d{1,9})$/.exec(s);
  if (hash) return { kind: "pr", number: Number(hash[1]) };
  if (/^\d{1,6}$/.test(s)) return { kind: "pr", number: Number(s) };
  const pr = PR_URL.exec(s);
  if (pr) return { kind: "pr", number: Number(pr[2]), repo: pr[1] as string };
  const commit = COMMIT_URL.exec(s);
  if (commit) return { kind: "sha", sha: (commit[2] as string).toLowerCase() };
  if (isSha(s)) return { kind: "sha", sha: s.toLowerCase() };
  if (BRANCH.test(s)) return { kind: "branch", name: s };
  return {
    error: `'${s.length > 60 ? `${s.slice(0, 57)}...` : s}' is not a commit hash (7-40 hex), a PR (#395, 395 or its URL) or a branch name`,
  };
}
