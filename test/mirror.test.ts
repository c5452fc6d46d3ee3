import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Mirror } from "../src/charts/mirror.ts";
import { silentLogger } from "../src/log.ts";
import { TestRepo } from "./helpers/git.ts";

describe("mirror", () => {
  it("survives several processes cloning the same mirror at once: one wins, none deletes another's", async () => {
    const repo = TestRepo.create();
    const tip = repo.commit("first", { "README.md": "hi\n" });
    const dataDir = mkdtempSync(join(tmpdir(), "bb-mirror-"));
    // Separate Mirror objects stand for separate processes (replicas, concurrent `ask` runs).
    const mirrors = Array.from({ length: 4 }, () => new Mirror({ name: "c", url: repo.path, dataDir, log: silentLogger() }));
    await Promise.all(mirrors.map((m) => m.ready()));
    for (const m of mirrors) expect(await m.hasCommit(tip)).toBe(true);
    expect(existsSync(join(dataDir, "mirrors", "c.git", "HEAD"))).toBe(true);
    expect(readdirSync(join(dataDir, "mirrors")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
