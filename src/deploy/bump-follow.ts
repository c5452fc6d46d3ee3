/** After a bump: follow its PR until merged, then the deploy run of the merge, and say how it ended. */

import type { CiRun } from "../ci/provider.ts";
import { errorLine } from "../core/one-line.ts";
import type { Services } from "../services.ts";
import { splitRepo } from "./deploy-file.ts";
import { describeRun, type LastRun } from "./last-run.ts";

export type BumpOutcome =
  | { kind: "deployed"; mergeSha: string; last: LastRun }
  | { kind: "closed" }
  | { kind: "gave-up"; stage: "merge" | "deploy"; mergeSha: string | null };

type Deps = Pick<Services, "ci" | "store" | "config" | "now" | "log" | "github">;

/** Waits `ms`, or less when `signal` aborts (then it rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

/**
 * Polls the PR every `deploy.bumpPollSeconds` until it is merged (or closed unmerged), then the
 * deploy workflow's runs of the merge commit until one has completed; gives up after
 * `deploy.bumpFollowHours`. A failed look (GitHub down for a while) is logged and tried again.
 */
export async function followBump(
  s: Deps,
  pr: number,
  signal: AbortSignal,
  /** The deadline (ms since epoch), kept across restarts; by default `deploy.bumpFollowHours` from now. */
  until = s.now().getTime() + s.config.deploy.bumpFollowHours * 3_600_000,
): Promise<BumpOutcome> {
  const d = s.config.deploy;
  const pollMs = d.bumpPollSeconds * 1000;
  const target = splitRepo(d.github);
  let mergeSha: string | null = null;
  // Looks first and checks the deadline after: a follow resumed past its deadline, or one whose last
  // pause ran past it, still takes one look, so a PR merged and deployed meanwhile is said as such.
  for (;;) {
    try {
      if (mergeSha === null) {
        const p = (await s.github.pulls.get({ ...target, pull_number: pr })).data;
        if (p.merged && p.merge_commit_sha) mergeSha = p.merge_commit_sha;
        else if (p.state === "closed") return { kind: "closed" };
      }
      if (mergeSha !== null) {
        const runs = await s.ci.runsForCommit(mergeSha);
        const done = runs.find((r: CiRun) => (r.workflow === null || r.workflow === d.workflow) && r.conclusion !== "running");
        if (done) return { kind: "deployed", mergeSha, last: await describeRun(s, done) };
      }
    } catch (err) {
      s.log.warn({ err: errorLine(err), pr }, "bump follow: could not look at the PR or its deploy");
    }
    if (s.now().getTime() >= until) break;
    await pause(pollMs, signal);
  }
  return { kind: "gave-up", stage: mergeSha === null ? "merge" : "deploy", mergeSha };
}
