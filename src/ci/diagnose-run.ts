import type { Logger } from "pino";
import { errorLine } from "../core/one-line.ts";
import { diagnoseAsync, type Verdict, type VerdictKind } from "../diagnose/index.ts";
import type { HistoryEntry, VerdictHistory } from "./history.ts";
import { CiError, type CiJob, type CiProvider, type CiRun, type JobLog } from "./provider.ts";

/** Jobs of one run whose logs are read (a deploy has a few; a matrix could have many). */
const MAX_JOBS = 4;
/** Earlier runs diagnosed to tell a streak from a one-off. */
const STREAK_LOOKBACK = 3;
/** Recent runs listed to find the ones just before a run. */
const STREAK_LIST = 15;

/** A failed job's log read and diagnosed. */
export interface JobDiagnosis {
  job: CiJob;
  log: JobLog;
  verdict: Verdict;
  /** Line number in the whole log, when known. */
  line: number | null;
  /** Line number within the part of the log read, when the whole-log number is not known. */
  lineInTail: number | null;
  step: string | null;
}

/** The verdict of a job that failed. */
export type FailureKind = Exclude<VerdictKind, "success">;

const RANK: Record<VerdictKind, number> = { legitimate: 0, spurious: 1, unknown: 2, success: 3 };

/** A job failed but its log shows no failure marker: say unknown, not success. */
export function effectiveVerdict(v: Verdict): FailureKind {
  return v.verdict === "success" ? "unknown" : v.verdict;
}

/** The history entry of a run: a success, or the verdict of its most decisive failed job (null: none read). */
function entryFor(run: CiRun, r: JobDiagnosis | null, at: Date): HistoryEntry {
  const v = r ? effectiveVerdict(r.verdict) : "unknown";
  return {
    runId: run.id,
    runUrl: run.url,
    sha: run.sha,
    branch: run.branch,
    workflow: run.workflow,
    runAt: run.createdAt,
    at: at.toISOString(),
    verdict: run.conclusion === "success" ? "success" : v,
    signature: run.conclusion === "success" || v === "unknown" ? null : (r?.verdict.signature?.id ?? null),
    title: run.conclusion === "success" || v === "unknown" ? null : (r?.verdict.signature?.title ?? null),
  };
}

export interface RunDiagnoserOptions {
  ci: CiProvider;
  history: VerdictHistory;
  /** The deploy repository (owner/name): the history key. */
  repo: string;
  /** The deploy workflow (streaks are looked for only among its runs). */
  workflow: string;
  logMaxBytes: number;
  now: () => Date;
  log: Logger;
}

/** Reads the failed jobs' logs of deploy runs, diagnoses them, and keeps the verdicts in the history. */
export class RunDiagnoser {
  constructor(private readonly o: RunDiagnoserOptions) {}

  /**
   * Reads and diagnoses the failed jobs of a run (at most MAX_JOBS; only `onlyJob` when given), most
   * decisive first (legitimate > spurious > unknown). Logs that cannot be read are returned as errors.
   */
  async jobs(run: CiRun, onlyJob: string | null = null): Promise<{ results: JobDiagnosis[]; errors: CiError[] }> {
    const { ci } = this.o;
    let jobs = await ci.failedJobs(run);
    if (onlyJob) jobs = jobs.filter((j) => j.id === onlyJob);
    const results: JobDiagnosis[] = [];
    const errors: CiError[] = [];
    for (const job of jobs.slice(0, MAX_JOBS)) {
      let log: JobLog;
      try {
        log = await ci.jobLog(job, { maxBytes: this.o.logMaxBytes });
      } catch (err) {
        if (err instanceof CiError) {
          errors.push(err);
          continue;
        }
        throw err;
      }
      // The CI says this job failed: the verdict is never "success", whatever the log shows. Diagnosed in
      // slices with turns of the event loop between them, so a huge log never delays other rooms or /healthz.
      const verdict = await diagnoseAsync(log.text, undefined, { failed: true });
      const line = verdict.line == null ? null : log.lineOffset == null ? null : verdict.line + log.lineOffset;
      const failedStep = job.steps.find((s) => s.conclusion === "failure")?.name ?? null;
      results.push({ job, log, verdict, line, lineInTail: verdict.line ?? null, step: failedStep ?? verdict.step });
    }
    results.sort((a, b) => RANK[a.verdict.verdict] - RANK[b.verdict.verdict]);
    return { results, errors };
  }

  /** Every run in the history, oldest first. */
  recorded(): Promise<HistoryEntry[]> {
    return this.o.history.all(this.o.repo);
  }

  /** What the history already knows of a run. */
  known(runId: string): Promise<HistoryEntry | undefined> {
    return this.o.history.get(this.o.repo, runId);
  }

  /** The entry of a completed run, diagnosing it if it failed (not recorded); null when none of its failed jobs' logs was read. */
  async entry(run: CiRun): Promise<HistoryEntry | null> {
    if (run.conclusion === "success") return entryFor(run, null, this.o.now());
    const { results } = await this.jobs(run);
    return results[0] ? entryFor(run, results[0], this.o.now()) : null;
  }

  /** Records a run's verdict: a success, or its most decisive failed job. */
  async record(run: CiRun, top: JobDiagnosis | null): Promise<void> {
    await this.recordEntry(entryFor(run, top, this.o.now()));
  }

  recordEntry(entry: HistoryEntry): Promise<void> {
    return this.o.history.record(this.o.repo, entry);
  }

  /**
   * How many runs in a row, ending with `run` (already recorded), failed with `signature`: the runs
   * just before it that the history does not know yet are diagnosed first.
   */
  async streak(run: CiRun, signature: string): Promise<number> {
    await this.fillPrevious(run, signature);
    return (await this.o.history.streak(this.o.repo, run.id)).count;
  }

  /** Diagnoses the runs just before `run` (same branch and workflow) that history does not know yet. */
  private async fillPrevious(run: CiRun, signature: string): Promise<void> {
    const { ci, workflow } = this.o;
    if (!run.branch) return;
    if (run.workflow !== null && run.workflow !== workflow) return;
    let recent: CiRun[];
    try {
      recent = await ci.recentRuns(workflow, run.branch, STREAK_LIST);
    } catch (err) {
      this.o.log.warn({ err: errorLine(err) }, "could not list earlier runs for the streak");
      return;
    }
    const earlier = recent
      .filter(
        (r) =>
          r.id !== run.id && (r.createdAt < run.createdAt || (r.createdAt === run.createdAt && Number(r.id) < Number(run.id))),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    let looked = 0;
    for (const r of earlier) {
      if (r.conclusion === "cancelled" || r.conclusion === "other") continue;
      if (looked++ >= STREAK_LOOKBACK) break;
      const known = await this.known(r.id);
      if (known) {
        if (known.signature !== signature) break;
        continue;
      }
      // A success ends the streak; so does a failure for another reason, or one whose logs cannot be read.
      const entry = (await this.entry(r).catch(() => null)) ?? entryFor(r, null, this.o.now());
      await this.recordEntry(entry);
      if (entry.signature !== signature) break;
    }
  }
}
