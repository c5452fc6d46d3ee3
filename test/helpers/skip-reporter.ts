import type { Reporter, TestModule } from "vitest/node";

/** `[skipped: why]` (skip.ts) or the older `(skipped: why)` in a title. */
const MARK = /^(.*?(?:\[skipped: [^\]]*\]|\(skipped: [^)]*\)))/;

/** Lists, once each, the tests and blocks skipped with a reason (see skip.ts), so a skip never goes unexplained. */
export default class SkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const seen = new Set<string>();
    for (const m of testModules) {
      for (const t of m.children.allTests("skipped")) {
        const why = MARK.exec(t.fullName)?.[1];
        if (why) seen.add(`${m.moduleId.replace(/^.*\/test\//, "test/")} > ${why}`);
      }
    }
    if (seen.size === 0) return;
    process.stdout.write(`\n Skipped here, and why:\n${[...seen].map((s) => `   ↓ ${s}`).join("\n")}\n`);
  }
}
