import { describe, expect, it, vi } from "vitest";
import type { TestModule } from "vitest/node";
import { skipWhy } from "./helpers/skip.ts";
import SkipReporter from "./helpers/skip-reporter.ts";

/** Just what the reporter reads of a finished test module. */
function moduleWith(file: string, skipped: string[]): TestModule {
  return {
    moduleId: `/repo/test/${file}`,
    children: {
      *allTests() {
        for (const fullName of skipped) yield { fullName };
      },
    },
  } as unknown as TestModule;
}

describe("skipped tests say why", () => {
  it("a title says why only when the test is skipped", () => {
    expect(skipWhy(true, "no redis-server")).toBe("");
    expect(skipWhy(false, "no redis-server")).toBe(" [skipped: no redis-server]");
  });

  it("the reporter lists each reason once, after the summary", () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    try {
      new SkipReporter().onTestRunEnd([
        moduleWith("store.test.ts", [
          "store on redis > round-trips values [skipped: redis-server is not installed]",
          "a block [skipped: no ../shared] > first test",
          "a block [skipped: no ../shared] > second test",
          "filtered out by -t, no reason",
        ]),
      ]);
    } finally {
      write.mockRestore();
    }
    expect(out.join("")).toBe(
      "\n Skipped here, and why:\n" +
        "   ↓ test/store.test.ts > store on redis > round-trips values [skipped: redis-server is not installed]\n" +
        "   ↓ test/store.test.ts > a block [skipped: no ../shared]\n",
    );
  });
});
