import type { CiProvider, CiRun, PullInfo } from "./provider.ts";

/** What `why` was asked about: the latest failed deploy, a PR of the deploy repository, or one run. */
export type Target = { kind: "latest" } | { kind: "pr"; number: number } | { kind: "run"; ref: string };

/** `why` / `why #254` / `why <run URL or id>`. PR numbers are short; run ids are long (≥ 7 digits). */
export function parseTarget(raw: string | undefined, deployRepo: string): Target | { error: string } {
  const s = (raw ?? "").trim().replace(/^<|>$/g, "");
  if (s === "") return { kind: "latest" };
  const hash = /^(?:pr\s*)?#?(\d{1,6})$/i.exec(s);
  if (hash) return { kind: "pr", number: Number(hash[1]) };
  const prUrl = /^https?:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)(?:[/?#]\S*)?$/i.exec(s);
  if (prUrl) {
    if ((prUrl[1] as string).toLowerCase() !== deployRepo.toLowerCase())
      return { error: `that pull request is in ${prUrl[1]}; I diagnose the deploys of ${deployRepo}` };
    return { kind: "pr", number: Number(prUrl[2]) };
  }
  if (/^\d{7,20}$/.test(s) || /^https?:\/\/\S+$/i.test(s)) return { kind: "run", ref: s };
  return { error: `'${s.length > 60 ? `${s.slice(0, 57)}…` : s}' is not a PR (#254), a run URL or a run id` };
}

/** The job a job URL names (GitHub Actions `/actions/runs/<run>/job/<id>`, Travis `/jobs/<id>`), else null. */
function jobIdFromUrl(ref: string): string | null {
  return (
    /\/actions\/runs\/\d+\/job\/(\d+)/i.exec(ref)?.[1] ??
    /travis-ci\.(?:org|com)\/(?:github\/)?[\w.-]+\/[\w.-]+\/jobs\/(\d+)/i.exec(ref)?.[1] ??
    null
  );
}

/** A target turned into the run to explain, or why there is none. */
export type Resolved =
  /** The run to diagnose; `onlyJob` when a job URL named one job; `pr` when asked about a PR. */
  | { kind: "run"; run: CiRun; onlyJob: string | null; pr: number | null }
  /** `why` alone: none of the recent runs of the deploy workflow failed. */
  | { kind: "no-failed-run" }
  /** A PR whose commits have no runs at all. */
  | { kind: "pr-no-runs"; pr: PullInfo }
  /** A PR none of whose runs failed (newest first). */
  | { kind: "pr-no-failure"; pr: PullInfo; runs: CiRun[] };

/** Finds the run a target means: the latest failed run of `workflow` on `branch`, the run named, or a PR's newest failed run. */
export async function resolveTarget(ci: CiProvider, target: Target, workflow: string, branch: string): Promise<Resolved> {
  if (target.kind === "latest") {
    const run = await ci.latestFailedRun(workflow, branch);
    return run ? { kind: "run", run, onlyJob: null, pr: null } : { kind: "no-failed-run" };
  }
  if (target.kind === "run") {
    const run = await ci.run(target.ref);
    return { kind: "run", run, onlyJob: jobIdFromUrl(target.ref), pr: null };
  }
  const pr = await ci.pull(target.number);
  const runs = await pullRuns(ci, pr);
  if (runs.length === 0) return { kind: "pr-no-runs", pr };
  const failed = runs.find((r) => r.conclusion === "failure");
  if (!failed) return { kind: "pr-no-failure", pr, runs };
  return { kind: "run", run: failed, onlyJob: null, pr: pr.number };
}

/** A PR's runs: its head commit's, and once merged, the merge commit's (the deploy ran there); newest first. */
async function pullRuns(ci: CiProvider, pr: PullInfo): Promise<CiRun[]> {
  const shas = [pr.headSha, ...(pr.mergeSha && pr.mergeSha !== pr.headSha ? [pr.mergeSha] : [])];
  const runs: CiRun[] = [];
  for (const sha of shas) {
    for (const r of await ci.runsForCommit(sha, { pr: pr.number })) if (!runs.some((x) => x.id === r.id)) runs.push(r);
  }
  runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return runs;
}
