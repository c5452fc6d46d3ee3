import type { CiProvider, CiRun } from "../ci/provider.ts";

export interface FollowOptions {
  ci: CiProvider;
  runId: string;
  /** The run's attempt before the re-run, when the CI counts attempts (GitHub Actions). */
  attemptBefore: number | null;
  pollMs: number;
  /** Give up after this long (ms since the follow started). */
  forMs: number;
  delay: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => Date;
  signal: AbortSignal;
  /** Told about a failed look at the run (the follow keeps going, up to 5 in a row). */
  onError?: (err: unknown) => void;
}

/**
 * Waits for the new attempt of a re-run run to end; null when it did not end within `forMs`. Right
 * after the re-run request the CI may still show the old, failed attempt: the new one counts as ended
 * only once it was seen running, or once the CI shows a higher attempt number that has ended.
 */
export async function awaitNewAttempt(o: FollowOptions): Promise<CiRun | null> {
  const until = o.now().getTime() + o.forMs;
  let seenRunning = false;
  let failures = 0;
  // At least one look, even when the deadline passed before it (a follow resumed after a long
  // downtime), so a run that ended meanwhile is said as it ended, not as "has not ended".
  for (let looks = 0; looks === 0 || o.now().getTime() < until; looks++) {
    if (looks > 0 || o.now().getTime() < until) await o.delay(o.pollMs, o.signal);
    let run: CiRun;
    try {
      run = await o.ci.run(o.runId);
      failures = 0;
    } catch (err) {
      o.onError?.(err);
      if (++failures >= 5) throw err;
      continue;
    }
    if (run.conclusion === "running") {
      seenRunning = true;
      continue;
    }
    const newer = o.attemptBefore !== null && typeof run.attempt === "number" && run.attempt > o.attemptBefore;
    if (seenRunning || newer) return run;
  }
  return null;
}
