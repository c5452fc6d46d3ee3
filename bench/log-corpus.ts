/**
 * The text the diagnosis benchmarks feed the engine (not a benchmark itself): realistic GitHub Actions
 * lines and the failure the "slow path" looks past. Used by diagnose-50mb.ts and diagnose-slow-path.ts.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Every non-empty line of the GitHub Actions logs (the shared corpus, or our fixtures without it),
 * less the lines that end a step (`##[error]`, `##[group]Run`), joined into one block.
 */
export function corpusBlock(): string {
  const shared = resolve(root, "../shared/data/ci-logs");
  const dir = existsSync(shared) ? shared : resolve(root, "test/fixtures/logs");
  const lines = readdirSync(dir)
    .filter((f) => f.startsWith("gha-") && f.endsWith(".log"))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n"))
    .filter((l) => l.trim() !== "" && !l.includes("##[error]") && !l.includes("##[group]Run"));
  return `${lines.join("\n")}\n`;
}

/** The deploy step's header line. */
export const DEPLOY_STEP = "2026-03-20T09:00:00.0000000Z ##[group]Run python ./deploy.py staging";

/** A failure near the start: the step, its decisive line, the runner's exit line. */
export const EARLY_FAILURE = [
  DEPLOY_STEP,
  '2026-03-20T09:10:00.0000000Z error: deployment "hub" exceeded its progress deadline',
  "2026-03-20T09:10:00.0000000Z ##[error]Process completed with exit code 1.",
];

/** The line at the very end of the early-failure log: what a "defers to" override looks for. */
export const LAST_DIAGNOSTIC =
  '2026-03-20T09:10:00.0000000Z 8m Warning Failed pod/hub Failed to pull image "quay.io/jupyterhub/k8s-hub:4.2.0": manifest unknown';
