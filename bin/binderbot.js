#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm install` / `npm run build`), never a stale one:
// when a source is newer than the build, it says how to rebuild instead of running old code.
import { buildProblem } from "../scripts/build-state.mjs";

const problem = buildProblem();
if (problem) {
  process.stderr.write(`binderbot: ${problem}\n`);
  process.exit(1);
}
await import("../dist/src/cli/entry.js");
