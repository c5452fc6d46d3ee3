import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProblem } from "../scripts/build-state.mjs";
import { subcommands } from "../src/cli/main.ts";
import { BIN, REPO, runCli } from "./helpers/cli.ts";

const TRACER = resolve(REPO, "test/helpers/module-trace.mjs");
const CHAT_LIBS = ["@slack/bolt", "matrix-js-sdk", "express", "prom-client"];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bb-startup-"));
});

let seq = 0;
/** Runs the compiled CLI with the module tracer; returns its result and the packages it loaded. */
async function traced(args: string[], input = "") {
  const trace = join(dir, `trace-${++seq}.txt`);
  const r = await runCli(args, {
    input,
    command: [process.execPath, "--import", TRACER, BIN],
    env: { BINDERBOT_MODULE_TRACE: trace, BINDERBOT_DATA_DIR: join(dir, "data") },
    cwd: dir,
  });
  const loaded = readFileSync(trace, "utf8").split("\n");
  const packages = new Set(loaded.flatMap((l) => [...l.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1])));
  return { ...r, loaded, packages };
}

describe("what a subcommand loads", () => {
  it("ask loads the core (ES modules and CommonJS both traced) but no chat library, HTTP server or metrics", async () => {
    const r = await traced(["ask", "--json", "!binder help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"command":"help"');
    // The tracer sees both kinds of module: zod is ESM, pino CommonJS.
    expect(r.packages).toContain("zod");
    expect(r.packages).toContain("pino");
    for (const lib of CHAT_LIBS) expect(r.packages).not.toContain(lib);
    // GitHub's client loads on the first request to GitHub, which `help` never makes.
    for (const lib of ["@octokit/rest", "bottleneck"]) expect(r.packages).not.toContain(lib);
  });

  it.each([
    [["--help"]],
    [["--version"]],
    [["run", "--help"]],
    [["check-config"]],
    [["diagnose", "--json", resolve(REPO, "test/fixtures/logs/gha-curl-dns.log")]],
  ])("%j loads no chat library, HTTP server or metrics", async (args) => {
    const r = await traced(args);
    expect(r.code).toBe(0);
    for (const lib of CHAT_LIBS) expect(r.packages).not.toContain(lib);
  });

  it("run loads only the adapters its config enables (the terminal here), never Bolt or matrix-js-sdk", async () => {
    const r = await traced(["run"], "!binder whoami\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("shell:local");
    expect(r.loaded.some((l) => l.endsWith("/dist/adapters/shell/shell.js"))).toBe(true);
    expect(r.loaded.some((l) => l.includes("/dist/adapters/slack/") || l.includes("/dist/adapters/matrix/"))).toBe(false);
    expect(r.packages).not.toContain("@slack/bolt");
    expect(r.packages).not.toContain("matrix-js-sdk");
  });
});

describe("--help and --version", () => {
  const pkg = JSON.parse(readFileSync(resolve(REPO, "package.json"), "utf8")) as { version: string };

  it.each([...subcommands.keys()])("%s --help prints its usage and exits 0", async (name) => {
    const r = await runCli([name, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: binderbot ${name}\\b`));
    expect(r.stdout.trim()).toBe(subcommands.get(name)?.usage.replace(/^(?!usage: )/, "usage: "));
  });

  it.each([["--version"], ["-V"], ["run", "--version"], ["ask", "--version"]])(
    "%j prints the package version",
    async (...args) => {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`binderbot ${pkg.version}\n`);
    },
  );

  it("help SUBCOMMAND is SUBCOMMAND --help; after -- a --help is an operand", async () => {
    expect((await runCli(["help", "check-config"])).stdout).toBe("usage: binderbot check-config [FILE | --config FILE]\n");
    const r = await runCli(["ask", "--json", "--", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"input":"--help"');
  });
});

describe("the compiled build", () => {
  /** A checkout with sources, the bin and its freshness check, and (optionally) a build stamp. */
  function checkout(stampAge: "none" | "older" | "newer"): string {
    const root = mkdtempSync(join(tmpdir(), "bb-build-"));
    for (const d of ["bin", "scripts", "src/cli", "dist"]) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(BIN, join(root, "bin/binderbot.js"));
    copyFileSync(resolve(REPO, "scripts/build-state.mjs"), join(root, "scripts/build-state.mjs"));
    writeFileSync(join(root, "src/cli/main.ts"), "export {};\n");
    writeFileSync(join(root, "dist/entry.js"), "");
    const src = new Date("2026-01-02T00:00:00Z");
    for (const p of ["src/cli/main.ts", "src/cli", "src"]) utimesSync(join(root, p), src, src);
    if (stampAge !== "none") {
      const t = new Date(src.getTime() + (stampAge === "newer" ? 1000 : -1000));
      writeFileSync(join(root, "dist/.build-stamp"), "");
      utimesSync(join(root, "dist/.build-stamp"), t, t);
    }
    return root;
  }

  it("a missing build is never run: the bin says how to build", async () => {
    const root = checkout("none");
    const r = await runCli(["--help"], { command: [process.execPath, join(root, "bin/binderbot.js")] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dist/) is missing: run `npm run build`");
  });

  it("a build older than a source is never run: the bin names the newer file", async () => {
    const root = checkout("older");
    const r = await runCli(["--help"], { command: [process.execPath, join(root, "bin/binderbot.js")] });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/older than src\/cli\/main\.ts: run `npm run build`/);
  });

  it("a build at least as new as every source is current; adding a file makes it stale", () => {
    const root = checkout("newer");
    expect(buildProblem(root)).toBeNull();
    writeFileSync(join(root, "src/cli/added.ts"), "export {};\n");
    expect(buildProblem(root)).toMatch(/older than src\/cli/);
  });

  it("this checkout's build is current (the test setup built it)", () => {
    expect(buildProblem()).toBeNull();
  });
});
