import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeGitHub, FakeRun } from "../fakes/github.ts";

export const DEPLOY = "jupyterhub/mybinder.org-deploy";
const LOGS = join(import.meta.dirname, "../fixtures/logs");

/** A deploy log `why` calls spurious (helm wait timeout, H13) and one it calls legitimate (missing chart, H01). */
export const SPURIOUS = readFileSync(join(LOGS, "gha-helm-wait-timeout-v3.log"), "utf8");
export const LEGITIMATE = readFileSync(join(LOGS, "gha-chart-missing-helm3.log"), "utf8");

/** A failed cd.yml run on main whose one failed job has `log`, created `minutesAgo` before `now`. */
export function failedRun(gh: FakeGitHub, now: Date, log: string, minutesAgo = 10, patch: Partial<FakeRun> = {}): FakeRun {
  const created = new Date(now.getTime() - minutesAgo * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const run = gh.addRun(DEPLOY, { conclusion: "failure", created_at: created, ...patch });
  gh.addJob(run.id, { name: "deploy (staging)", conclusion: "failure", log });
  return run;
}

/** The re-run's new attempt ends: `log` null = green, else failed with that log. */
export function endAttempt(gh: FakeGitHub, run: FakeRun, log: string | null): void {
  gh.addJob(run.id, {
    name: "deploy (staging)",
    run_attempt: run.run_attempt,
    conclusion: log === null ? "success" : "failure",
    log: log ?? "ok\n",
  });
  gh.updateRun(run.id, { status: "completed", conclusion: log === null ? "success" : "failure" });
}

/**
 * A delay for the retry follower that a test steps by hand: each `step()` lets one waiting poll go on
 * (or the next poll go on at once when none is waiting yet).
 */
export function steppedDelay(): {
  delay: (ms: number, signal?: AbortSignal) => Promise<void>;
  step: () => void;
  waiting: () => Promise<void>;
} {
  let credits = 0;
  let release: (() => void) | null = null;
  let onWait: (() => void) | null = null;
  return {
    delay: (_ms, signal) =>
      new Promise<void>((resolve, reject) => {
        signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        if (credits > 0) {
          credits--;
          resolve();
          return;
        }
        release = resolve;
        onWait?.();
      }),
    step: () => {
      if (release) {
        const r = release;
        release = null;
        r();
      } else credits++;
    },
    waiting: () =>
      new Promise<void>((resolve) => {
        if (release) resolve();
        else
          onWait = () => {
            onWait = null;
            resolve();
          };
      }),
  };
}
