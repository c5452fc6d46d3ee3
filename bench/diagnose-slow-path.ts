/**
 * The diagnosis "slow path": a failure marker near the start, then a long diagnostics output in which every
 * line is looked at for the targets of "defers to" overrides. Compares the combined pre-filter (one pattern
 * over the targets still missing) with the former line-by-line path, in one process, on the same text,
 * alternating the two. Run: npx tsx bench/diagnose-slow-path.ts [MiB, default 20]
 */
import { diagnose, loadSignatures } from "../src/diagnose/index.ts";
import { corpusBlock, EARLY_FAILURE, LAST_DIAGNOSTIC } from "./log-corpus.ts";

const mib = Number(process.argv[2] ?? 20);

const block = corpusBlock();
const text = `${EARLY_FAILURE.map((l) => `${l}\n`).join("")}${block.repeat(Math.ceil((mib * 2 ** 20) / block.length))}${LAST_DIAGNOSTIC}\n`;
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
