/**
 * The diagnosis "slow path": a failure marker near the start, then a long diagnostics output in which every
 * line is looked at for the targets of "defers to" overrides. Compares the combined pre-filter (one pattern
 * over the targets still missing) with the former line-by-line path, in one process, on the same text,
 * alternating the two. Run: npx tsx bench/diagnose-slow-path.ts [MiB, default 20]
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { diagnose, loadSignatures } from "../src/diagnose/index.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const mib = Number(process.argv[2] ?? 20);

function corpusLines(): string[] {
  const shared = resolve(root, "../shared/data/ci-logs");
  const dir = existsSync(shared) ? shared : resolve(root, "test/fixtures/logs");
  return readdirSync(dir)
    .filter((f) => f.startsWith("gha-") && f.endsWith(".log"))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n"))
    .filter((l) => l.trim() !== "" && !l.includes("##[error]") && !l.includes("##[group]Run"));
}

const block = `${corpusLines().join("\n")}\n`;
const head = [
  "2026-03-20T09:00:00.0000000Z ##[group]Run python ./deploy.py staging",
  '2026-03-20T09:10:00.0000000Z error: deployment "hub" exceeded its progress deadline',
  "2026-03-20T09:10:00.0000000Z ##[error]Process completed with exit code 1.\n",
].join("\n");
const last =
  '2026-03-20T09:10:00.0000000Z 8m Warning Failed pod/hub Failed to pull image "quay.io/jupyterhub/k8s-hub:4.2.0": manifest unknown\n';
const text = `${head}${block.repeat(Math.ceil((mib * 2 ** 20) / block.length))}${last}`;
const sigs = loadSignatures();

const runs: Record<"old" | "new", number[]> = { old: [], new: [] };
const verdicts = new Set<string>();
for (let i = 0; i < 5; i++) {
  for (const kind of ["old", "new"] as const) {
    const t0 = performance.now();
    const v = diagnose(text, sigs, { prefilter: kind === "new" });
    runs[kind].push(performance.now() - t0);
    verdicts.add(`${v.verdict} ${v.signature?.id} line ${v.line}`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [o, n] = [median(runs.old), median(runs.new)];
console.log(
  `node ${process.version}; ${(text.length / 2 ** 20).toFixed(1)} MiB after the marker; verdicts: ${[...verdicts].join(" / ")}`,
);
console.log("| path | median of 5 (ms) |");
console.log("|---|---|");
console.log(`| line by line (before) | ${o.toFixed(0)} |`);
console.log(`| combined pre-filter | ${n.toFixed(0)} |`);
console.log(`| speed-up | ${(o / n).toFixed(2)}× |`);
