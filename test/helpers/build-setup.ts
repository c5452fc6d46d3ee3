// Global setup of the "cli" test project: those tests spawn bin/binderbot.js, which runs the compiled
// build, so bring dist/ up to date first (a no-op when it is current).

import { build } from "../../scripts/build.mjs";
import { buildProblem } from "../../scripts/build-state.mjs";

export default function setup(): void {
  if (buildProblem() === null) return;
  const code = build({ quiet: true });
  // 2 = type errors reported but the JavaScript written: the tests still run (vitest ignores types too).
  const problem = buildProblem();
  if (problem !== null) throw new Error(`npm run build failed (exit ${code}): ${problem}`);
}
