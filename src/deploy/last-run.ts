/** The deploy repository's last completed deploy run, with the `why` verdict when it failed. */

import { effectiveVerdict, RunDiagnoser } from "../ci/diagnose-run.ts";
import { VerdictHistory } from "../ci/history.ts";
import { CiError, type CiRun } from "../ci/provider.ts";
import type { Services } from "../services.ts";

export interface LastRun {
  run: CiRun;
  /** For a failed run: spurious | legitimate | unknown, with the decisive cause and what to do. */
  verdict: {
    kind: "spurious" | "legitimate" | "unknown";
    title: string | null;
    advice: string | null;
    /** The decisive log line, normalised. */
    text: string | null;
  } | null;
  /** Names of the failed jobs (a failed run), in the CI's order. */
  failedJobs: string[];
  /** Why the verdict could not be had (logs gone, CI unreachable), one line. */
  error: string | null;
}

/** The diagnoser `why` uses, over the services' CI and store. */
function runDiagnoser(s: Pick<Services, "ci" | "store" | "config" | "now" | "log">): RunDiagnoser {
  const d = s.config.deploy;
  return new RunDiagnoser({
    ci: s.ci,
    history: new VerdictHistory(s.store, d.historyLength),
    repo: d.github,
    workflow: d.workflow,
    logMaxBytes: d.logMaxBytes,
    now: s.now,
    log: s.log,
  });
}

/**
 * The newest completed run of the deploy workflow on the default branch (null: none yet). A failed
 * run is diagnosed like `why` does (a verdict the history already has is reused) and recorded.
 */
export async function lastDeployRun(s: Pick<Services, "ci" | "store" | "config" | "now" | "log">): Promise<LastRun | null> {
  const d = s.config.deploy;
  const [run] = await s.ci.recentRuns(d.workflow, d.branch, 1);
  return run ? describeRun(s, run) : null;
}

/** A completed run with, when it failed, the `why` verdict (diagnosed and recorded like `why` does). */
export async function describeRun(s: Pick<Services, "ci" | "store" | "config" | "now" | "log">, run: CiRun): Promise<LastRun> {
  const out: LastRun = { run, verdict: null, failedJobs: [], error: null };
  if (run.conclusion !== "failure") return out;
  const diag = runDiagnoser(s);
  try {
    out.failedJobs = (await s.ci.failedJobs(run)).map((j) => j.name);
    const { results, errors } = await diag.jobs(run);
    const top = results[0];
    if (!top) {
      out.error = errors[0]?.message ?? "no failed job's log could be read";
      return out;
    }
    await diag.record(run, top);
    const v = top.verdict;
    out.verdict = { kind: effectiveVerdict(v), title: v.signature?.title ?? null, advice: v.advice || null, text: v.text };
  } catch (e) {
    if (!(e instanceof CiError)) throw e;
    out.error = e.message;
  }
  return out;
}
