/**
 * `npm run bench`: every benchmark, one after another (they measure time and memory, so never in
 * parallel). Results are printed; docs/benchmarks.md holds the numbers written up.
 *
 *   npm run bench                 all of them
 *   npm run bench -- sha-warm     only those whose file name contains one of the words
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// sha-history.ts is a correctness check over the whole binderhub history, not a benchmark: run it alone.
const all = [
  "startup.ts",
  "index-parse.ts",
  "sha-warm.ts",
  "sha-repeat.ts",
  "diagnose-50mb.ts",
  "diagnose-slow-path.ts",
  "notify.ts",
];
const wanted = process.argv.slice(2);
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.includes(w))) : all;
let failed = 0;
for (const file of chosen) {
  console.log(`\n=== bench/${file}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, file)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
