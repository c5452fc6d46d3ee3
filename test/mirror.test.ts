import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitCommandLine } from "../src/charts/git/git.ts";
import { Mirror } from "../src/charts/git/mirror.ts";
import { TestRepo } from "./helpers/git.ts";
import { silentLogger } from "./helpers/log.ts";

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
    // What the clone wrote into the mirror's config: PR refs fetched, a commit-graph, no gc/maintenance runs.
    const cfg = execFileSync("git", ["--git-dir", join(dataDir, "mirrors", "c.git"), "config", "--list", "--local"], {
      encoding: "utf8",
    }).split("\n");
    expect(cfg).toEqual(
      expect.arrayContaining([
        "remote.origin.fetch=+refs/heads/*:refs/heads/*",
        "remote.origin.fetch=+refs/tags/*:refs/tags/*",
        "remote.origin.fetch=+refs/pull/*/head:refs/pull/*/head",
        "fetch.writecommitgraph=true",
        "gc.auto=0",
        "maintenance.auto=false",
      ]),
    );
    expect(cfg.filter((l) => l.startsWith("remote.origin.fetch="))).toHaveLength(3);
    expect(mirrors.map((m) => m.mode)).toEqual(["blobless", "blobless", "blobless", "blobless"]);
  });

  it("a leftover at the mirror's path that is no mirror (no HEAD) is replaced; nothing is left beside it", async () => {
    const repo = TestRepo.create();
    const tip = repo.commit("first", { "README.md": "hi\n" });
    const dataDir = mkdtempSync(join(tmpdir(), "bb-mirror-"));
    mkdirSync(join(dataDir, "mirrors", "c.git"), { recursive: true });
    writeFileSync(join(dataDir, "mirrors", "c.git", "config"), "half-made\n");
    const m = new Mirror({ name: "c", url: repo.path, dataDir, log: silentLogger() });
    await m.ready();
    expect(await m.hasCommit(tip)).toBe(true);
    expect(readdirSync(join(dataDir, "mirrors"))).toEqual(["c.git"]);
  });

  it("a clone that fails names the command and the source, in one line", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "bb-mirror-"));
    const missing = join(dataDir, "no-such-repo.git");
    const m = new Mirror({ name: "c", url: missing, dataDir, log: silentLogger() });
    const err = (await m.ready().catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`^git clone file://${missing.replace(/[.]/g, "\\.")} failed \\(exit 128\\): fatal: `));
    expect(err.message).not.toContain("\n");
    expect(gitCommandLine(["clone", "--bare", "--", "https://user:tok@example.org/r.git", "/tmp/x"])).toBe(
      "git clone https://example.org/r.git",
    );
    expect(gitCommandLine(["--git-dir", "/m.git", "fetch", "--quiet", "--prune"])).toBe("git fetch --quiet");
  });
});
