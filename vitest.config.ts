import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Three projects, told apart by what a test file reads, so new test files need no edit here:
// "cli" spawns the real binderbot process (bin/binderbot.js runs the compiled build, which its global
// setup brings up to date first); "history" checks the rule against a real repository's whole history
// (BINDERHUB_GIT / Z2JH_GIT: hundreds of git calls each, so slow by nature); "unit" is the rest, all
// in-process. `npm test` runs all three; `npm run test:unit` only "unit", for a quick check while working.
const SPAWNS_BOT = /helpers\/(cli|bot-process)(\.ts)?["']|bin\/binderbot\.js/;
const REAL_HISTORY = /process\.env\.(BINDERHUB_GIT|Z2JH_GIT)\b/;
const testDir = join(import.meta.dirname, "test");
const testFiles = readdirSync(testDir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => `test/${f}`);
const source = (f: string) => readFileSync(join(import.meta.dirname, f), "utf8");
const cliTests = testFiles.filter((f) => SPAWNS_BOT.test(source(f)));
const historyTests = testFiles.filter((f) => !cliTests.includes(f) && REAL_HISTORY.test(source(f)));

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Most tests wait on processes, sockets and git rather than compute, so one worker more than the
    // cores (vitest's default is one fewer: a single worker on 2 cores, which ran the suite serially).
    maxWorkers: availableParallelism() + 1,
    // Test files share their worker's loaded modules instead of loading them all again per file
    // (~0.5 s of CPU each); every file still makes its own servers, stores, repositories and apps.
    isolate: false,
    // The default reporter counts skipped tests; this one also says why each was skipped.
    reporters: ["default", "./test/helpers/skip-reporter.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: [...cliTests, ...historyTests] } },
      { extends: true, test: { name: "history", include: historyTests } },
      { extends: true, test: { name: "cli", include: cliTests, globalSetup: ["test/helpers/build-setup.ts"] } },
    ],
  },
});
