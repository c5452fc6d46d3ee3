/**
 * What users type to name a commit. Validated here so that nothing a user types can ever reach
 * git as an option or a revision expression.
 */
export type UserRef =
  | { kind: "sha"; sha: string }
  | { kind: "pr"; number: number; repo?: string }
  | { kind: "branch"; name: string };

const HEX = /^[0-9a-f]{7,40}$/i;
const PR_URL = /^<?https?:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)(?:[/?#][^\s>]*)?>?$/i;
const COMMIT_URL = /^<?https?:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/commit\/([0-9a-f]{7,40})(?:[/?#][^\s>]*)?>?$/i;
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
  if (HEX.test(s)) return { kind: "sha", sha: s.toLowerCase() };
  if (BRANCH.test(s)) return { kind: "branch", name: s };
  return {
    error: `'${s.length > 60 ? `${s.slice(0, 57)}...` : s}' is not a commit hash (7-40 hex), a PR (#395, 395 or its URL) or a branch name`,
  };
}
