#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` / `npm ci` build too): tsc compiles src/ and
// adapters/ into dist/ (tsconfig.build.json), then stamps the build with the time it started, so a
// source saved during the build still counts as newer. `--if-stale` builds only when needed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { buildProblem, DIST, ROOT, STAMP } from "./build-state.mjs";

/** Builds dist/; returns tsc's exit code (2: type errors, but the JavaScript was written). */
export function build({ ifStale = false, quiet = false } = {}) {
  if (ifStale && buildProblem() === null) return 0;
  const started = new Date();
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], {
    cwd: ROOT,
    stdio: quiet ? "pipe" : "inherit",
    encoding: "utf8",
  });
  if (quiet && r.status !== 0) process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
  // 0: built; 2: type errors reported, JavaScript still written (tsc emits what it can).
  if (r.status !== 0 && r.status !== 2) return r.status ?? 1;
  // Files the sources find relative to themselves (config/default.yaml, config/signatures.yaml, …)
  // are found from dist/ the same way: dist/config is the checkout's config/, not a copy to go stale.
  const link = join(DIST, "config");
  if (!existsSync(link)) {
    mkdirSync(DIST, { recursive: true });
    rmSync(link, { force: true });
    symlinkSync("../config", link, "dir");
  }
  writeFileSync(STAMP, `${started.toISOString()}\n`);
  utimesSync(STAMP, started, started);
  return r.status;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  process.exitCode = build({ ifStale: process.argv.includes("--if-stale") });
}
