import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Two projects, told apart by what a test file imports, so new test files need no edit here:
// "cli" spawns the real binderbot process (bin/binderbot.js runs the compiled build, which its global
// setup brings up to date first); "unit" runs in-process (`npm run test:unit`).
const SPAWNS_BOT = /helpers\/(cli|bot-process)(\.ts)?["']|bin\/binderbot\.js/;
const testDir = join(import.meta.dirname, "test");
const testFiles = readdirSync(testDir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => `test/${f}`);
const cliTests = testFiles.filter((f) => SPAWNS_BOT.test(readFileSync(join(import.meta.dirname, f), "utf8")));

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // The default reporter counts skipped tests; this one also says why each was skipped.
    reporters: ["default", "./test/helpers/skip-reporter.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: cliTests } },
      { extends: true, test: { name: "cli", include: cliTests, globalSetup: ["test/helpers/build-setup.ts"] } },
    ],
  },
});
