import { errorLine } from "../../core/one-line.ts";
import { isSha, type UserRef } from "../../core/ref.ts";
import { githubErrorLine, githubStatus } from "../../github/client.ts";
import { ShaError } from "../errors.ts";
import { isFullSha } from "./git.ts";
import type { HistoryView } from "./history.ts";
import { commitInfo, ensureReady, fetchMirror, freshen, type Repo } from "./repo.ts";

/**
 * The commit a user's ref names (undefined: the tip of the default branch, with the view of history
 * it is the tip of), and the PR number when it was asked as a PR.
 */
export async function resolveRef(
  repo: Repo,
  ref: UserRef | undefined,
): Promise<{ commit: string; pr: number | null; githubError?: string; view?: HistoryView }> {
  await ensureReady(repo);
  if (!ref) {
    await freshen(repo);
    const view = await repo.history.current();
    return { commit: view.tip, pr: null, view };
  }
  if (ref.kind === "sha") return { commit: await resolveSha(repo, ref.sha), pr: null };
  if (ref.kind === "branch") return { commit: await resolveBranch(repo, ref.name), pr: null };
  return { ...(await resolvePr(repo, ref.number, ref.repo)), pr: ref.number };
}

/** The one commit a (short) hash names; fetches once when it is unknown, lists the candidates when ambiguous. */
export async function resolveSha(repo: Repo, input: string): Promise<string> {
  await ensureReady(repo);
  const github = repo.github;
  const prefix = input.toLowerCase();
  if (!isSha(prefix)) throw new ShaError({ kind: "not-a-hash", input });
  let found = await candidates(repo, prefix);
  if (found.length === 0) {
    await fetchMirror(repo).catch((e) => {
      const fetchError = e instanceof ShaError && e.problem.kind === "fetch-failed" ? e.problem.error : errorLine(e);
      throw new ShaError({ kind: "unknown-commit", repo: github, prefix, fetchError });
    });
    found = await candidates(repo, prefix);
  }
  if (found.length === 0) {
    throw new ShaError({ kind: "unknown-commit", repo: github, prefix, fetchError: null });
  }
  if (found.length > 1) {
    const infos = await Promise.all(found.slice(0, 10).map((s) => commitInfo(repo, s)));
    throw new ShaError({ kind: "ambiguous", repo: github, prefix, shas: found, candidates: infos });
  }
  return found[0] as string;
}

/** Commits whose SHA starts with `prefix`. */
async function candidates(repo: Repo, prefix: string): Promise<string[]> {
  const git = repo.mirror.git;
  if (isFullSha(prefix)) return (await git.objectType(prefix)) === "commit" ? [prefix] : [];
  // A unique prefix resolves in the cat-file helper without a process start; "missing" or
  // "ambiguous" (two commits) goes to --disambiguate, which lists every candidate.
  const direct = await git.objectId(`${prefix}^{commit}`).catch(() => null);
  if (direct?.type === "commit" && isFullSha(direct.oid)) return [direct.oid];
  const r = await git.run(["rev-parse", `--disambiguate=${prefix}`], { okCodes: [1, 128] });
  const oids = r.stdout.split("\n").filter((l) => isFullSha(l));
  const types = await Promise.all(oids.map((o) => git.objectType(o)));
  return oids.filter((_, i) => types[i] === "commit");
}

async function resolveBranch(repo: Repo, name: string): Promise<string> {
  // A branch moves: fetch first when the mirror is not fresh.
  await freshen(repo).catch(() => {});
  for (const ref of [`refs/heads/${name}`, `refs/tags/${name}`]) {
    const r = await repo.mirror.git.run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], {
      okCodes: [1, 128],
    });
    const sha = r.stdout.trim();
    if (r.code === 0 && isFullSha(sha)) return sha;
  }
  throw new ShaError({ kind: "no-branch", repo: repo.github, name });
}

/**
 * A merged PR's merge commit (through the GitHub API); one clear line when it is not merged. When
 * GitHub cannot be asked (down, unreachable, rate-limited), the merge is looked for in the history.
 */
async function resolvePr(repo: Repo, number: number, inRepo?: string): Promise<{ commit: string; githubError?: string }> {
  const { github, mirror } = repo;
  if (inRepo && inRepo.toLowerCase() !== github.toLowerCase()) {
    throw new ShaError({ kind: "pr-elsewhere", prRepo: inRepo, chart: repo.chart, repo: github });
  }
  const [owner, name] = github.split("/") as [string, string];
  let pr: { merged?: boolean; merge_commit_sha?: string | null; state?: string };
  try {
    pr = (await repo.octokit().pulls.get({ owner, repo: name, pull_number: number })).data;
  } catch (e) {
    const line = githubErrorLine(e, `PR #${number} of ${github}`);
    const status = githubStatus(e);
    if (status === 404 || status === 422) throw new ShaError({ kind: "github", line });
    const merge = await mergeInHistory(repo, number).catch(() => null);
    if (!merge) throw new ShaError({ kind: "github", line });
    return { commit: merge, githubError: line };
  }
  if (!pr.merged || !pr.merge_commit_sha) {
    throw new ShaError({ kind: "pr-not-merged", pr: number, state: pr.state ?? null });
  }
  const sha = pr.merge_commit_sha.toLowerCase();
  if (!(await mirror.hasCommit(sha))) await fetchMirror(repo);
  if (!(await mirror.hasCommit(sha))) {
    throw new ShaError({ kind: "pr-merge-missing", repo: github, pr: number, sha });
  }
  return { commit: sha };
}

/**
 * The default-branch commit that merged PR #n, from its subject: GitHub's "Merge pull request #n from …"
 * or a squash/rebase merge's "… (#n)". Null when the history has none.
 */
async function mergeInHistory(repo: Repo, number: number): Promise<string | null> {
  await freshen(repo).catch(() => {});
  const subject = new RegExp(`^Merge pull request #${number} from \\S|\\(#${number}\\)$`);
  const out = await repo.mirror.git.out([
    "log",
    "--first-parent",
    "--extended-regexp",
    `--grep=(^Merge pull request #${number} from )|(\\(#${number}\\)$)`,
    "--format=%H %s",
    "--end-of-options",
    (await repo.history.current()).tip,
  ]);
  for (const line of out.split("\n")) {
    const [sha, ...rest] = line.split(" ");
    if (sha && isFullSha(sha) && subject.test(rest.join(" "))) return sha;
  }
  return null;
}
