import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonLines, REPO, runCli } from "./helpers/cli.ts";
import { skipWhy } from "./helpers/skip.ts";

const KEYS = ["advice", "file", "line", "signature", "text", "verdict"];
const own = resolve(REPO, "test/fixtures/logs");
const shared = resolve(REPO, "../shared/data/ci-logs");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bb-diagnose-"));
  writeFileSync(join(dir, "empty.log"), "");
});

describe("binderbot diagnose (the real process)", () => {
  it("--json: one object per file and line, with exactly the contract's keys, exit 0", async () => {
    const files = ["travis-helm-another-operation.log", "travis-chart-missing-helm2.log", "gha-success-with-noise.log"].map((f) =>
      join(own, f),
    );
    const r = await runCli(["diagnose", ...files, join(dir, "empty.log"), "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith("\n")).toBe(true);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(Object.keys(l).sort()).toEqual(KEYS);
    expect(lines[0]).toMatchObject({ file: files[0], verdict: "spurious", signature: "H15" });
    expect(lines[1]).toMatchObject({ file: files[1], verdict: "legitimate", signature: "H01" });
    expect(lines[2]).toMatchObject({ file: files[2], verdict: "success", signature: null });
    expect(lines[3]).toMatchObject({ verdict: "unknown", signature: null, line: null, text: null });
    // line is the 1-based line of the file; text is that line without timestamp
    const raw = readFileSync(files[1]!, "utf8").split("\n")[(lines[1]!.line as number) - 1];
    expect(raw).toContain(lines[1]!.text as string);
    expect(lines[1]!.text).toBe(
      "Error: Can't get a valid version for repositories binderhub. Try changing the version constraint in requirements.yaml",
    );
    for (const l of lines) expect(typeof l.advice).toBe("string");
  });

  it.skipIf(!existsSync(shared))(
    `classifies the shared corpus as EXPECTED.tsv says${skipWhy(existsSync(shared), `no ${shared}`)}`,
    async () => {
      const rows = readFileSync(join(shared, "EXPECTED.tsv"), "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((r) => r.split("\t"));
      const r = await runCli(["diagnose", "--json", ...rows.map((row) => join(shared, row[0]!))]);
      expect(r.code).toBe(0);
      const got = jsonLines(r.stdout).map((l) => [l.verdict, l.signature ?? "-", String(l.line)]);
      expect(got).toEqual(rows.map((row) => [row[1], row[2], row[3]]));
    },
  );

  it("works from another directory (npx in a checkout of mybinder.org-deploy)", async () => {
    const r = await runCli(["diagnose", "--json", join(own, "gha-kubectl-unauthorized.log")], { cwd: dir });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ verdict: "legitimate", signature: "K12" });
  });

  it("readable output: one line per file, then its advice", async () => {
    const r = await runCli(["diagnose", join(own, "travis-helm-wait-deadline.log")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /travis-helm-wait-deadline\.log: spurious H14 at line \d+: Error: UPGRADE FAILED: context deadline exceeded\n {2}\S/,
    );
  });

  it("reads standard input as '-'", async () => {
    const log = readFileSync(join(own, "gha-pip-bad-pin.log"), "utf8");
    const r = await runCli(["diagnose", "-", "--json"], { input: log });
    expect(jsonLines(r.stdout)[0]).toMatchObject({ file: "-", verdict: "legitimate", signature: "PI04" });
  });

  it("a directory is bad usage: exit 2 with the reason", async () => {
    const r = await runCli(["diagnose", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read ${dir}: is a directory`);
  });

  it("a missing file is reported on its own line; the other files are still classified; exit 2", async () => {
    const missing = join(dir, "nope.log");
    const r = await runCli(["diagnose", "--json", missing, join(own, "gha-job-cancelled.log")]);
    expect(r.code).toBe(2);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      file: missing,
      verdict: "unknown",
      signature: null,
      line: null,
      text: null,
      error: "no such file",
    });
    expect(lines[1]).toMatchObject({ verdict: "spurious", signature: "G03" });
    expect(r.stderr).toContain(`cannot read ${missing}`);
  });

  it("bad usage exits 2: no files, unknown option", async () => {
    const none = await runCli(["diagnose", "--json"]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/no log files given[\s\S]*usage: binderbot diagnose FILE/);
    const opt = await runCli(["diagnose", "--frobnicate", "x.log"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option '--frobnicate'");
  });

  it("--signatures FILE uses another rules file; an invalid one is a clear usage error", async () => {
    const rules = join(dir, "rules.yaml");
    writeFileSync(
      rules,
      "markers: [{ id: m, pattern: '^##\\[error\\]' }]\nsignatures:\n  - { id: MINE, category: legitimate, title: t, advice: mine, pattern: 'another operation' }\n",
    );
    const r = await runCli(["diagnose", "--json", "--signatures", rules, join(own, "travis-helm-another-operation.log")]);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ verdict: "legitimate", signature: "MINE", advice: "mine" });
    writeFileSync(rules, "signatures: []\n");
    const bad = await runCli(["diagnose", "--signatures", rules, join(own, "travis-helm-another-operation.log")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid signatures file .*rules\.yaml/);
  });

  it("is listed in the usage text", async () => {
    const r = await runCli(["--help"]);
    expect(r.stdout).toContain("binderbot diagnose FILE... [--json]");
  });
});
