/**
 * Chart index: parse time and memory of the real index (1.75 MB, 2024-10-24) and of a synthetic one
 * ten times larger, for the parse binderbot uses (js-yaml, failsafe schema, compact entries kept) and
 * for a naive `yaml.load` that keeps the whole document; and the cost of polling an unchanged index
 * (one 304, no parse).
 *
 *   npx tsx bench/index-parse.ts            (results go into docs/benchmarks.md, "## Chart index")
 *
 * Memory is measured in a fresh child process per case (RSS and heap are otherwise polluted by
 * the previous case): "retained" is the heap still held by the result after a full GC; "peak RSS"
 * is the growth of the resident set while parsing.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import yaml from "js-yaml";
import { ChartIndex } from "../src/charts/index/chart-index.ts";
import { parseIndex } from "../src/charts/index/parse.ts";
import { parseChartVersion } from "../src/charts/index/version-format.ts";
import { startIndexServer } from "../test/fakes/index-server.ts";
import { silentLogger } from "../test/helpers/log.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const REAL = path.resolve(here, "../../shared/data/helm-chart-index-2024-10-24.yaml");

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

type Parser = "binderbot" | "yaml-default";
const parsers: Record<Parser, (body: string) => unknown> = {
  binderbot: parseIndex,
  "yaml-default": (b) => yaml.load(b), // what a naive `yaml.load(index)` costs (keeps everything)
};

/** The real index with every chart's entries repeated ten times, each copy with its own hashes. */
function synthetic10x(real: string): string {
  const lines = real.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length && lines[i] !== "entries:") out.push(lines[i++]!);
  out.push(lines[i++]!);
  while (i < lines.length && (lines[i]!.startsWith(" ") || lines[i] === "")) {
    out.push(lines[i++]!); // "  chart:"
    const blocks: string[][] = [];
    while (i < lines.length && (lines[i]!.startsWith("  -") || lines[i]!.startsWith("    "))) {
      if (lines[i]!.startsWith("  -")) blocks.push([]);
      blocks[blocks.length - 1]!.push(lines[i++]!);
    }
    for (let k = 0; k < 10; k++) {
      for (const b of blocks) {
        const text = b.join("\n");
        if (k === 0) {
          out.push(text);
          continue;
        }
        const v = /\n {4}version: (.+)/.exec(text)?.[1]?.replace(/^"|"$/g, "") ?? "";
        const sha = parseChartVersion(v).sha;
        const nv = sha ? v.replace(sha, createHash("sha1").update(`${k}${v}`).digest("hex").slice(0, sha.length)) : `${v}-r${k}`;
        out.push(text.split(v).join(nv));
      }
    }
  }
  while (i < lines.length) out.push(lines[i++]!);
  return out.join("\n");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Child mode: parse `file` once with `parser`, print {ms, retainedMB, peakRssMB}. */
function child(parser: Parser, file: string): void {
  const body = readFileSync(file, "utf8");
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => {}, 1000); // keep nothing else alive; sampling below is synchronous
  const t0 = performance.now();
  const result = parsers[parser](body);
  const ms = performance.now() - t0;
  peak = Math.max(peak, process.memoryUsage().rss);
  gc();
  const retained = process.memoryUsage().heapUsed - heap0;
  clearInterval(timer);
  if (!result) throw new Error("no result");
  process.stdout.write(JSON.stringify({ ms, retainedMB: retained / 2 ** 20, peakRssMB: (peak - rss0) / 2 ** 20 }));
}

function runChild(parser: Parser, file: string): { ms: number; retainedMB: number; peakRssMB: number } {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--child", parser, file], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function main(): Promise<void> {
  if (!existsSync(REAL)) {
    console.log(`skipped: ${REAL} is absent`);
    return;
  }
  const real = readFileSync(REAL, "utf8");
  const big = synthetic10x(real);
  const dir = mkdtempSync(path.join(tmpdir(), "index-bench-"));
  const files = { real: path.join(dir, "real.yaml"), "10x": path.join(dir, "10x.yaml") };
  writeFileSync(files.real, real);
  writeFileSync(files["10x"], big);
  const sizes = { real: Buffer.byteLength(real) / 2 ** 20, "10x": Buffer.byteLength(big) / 2 ** 20 };
  const counts = (b: string) => [...parseIndex(b)].reduce((n, [, e]) => n + e.length, 0);
  console.log(
    `real index: ${sizes.real.toFixed(2)} MiB, ${counts(real)} entries; synthetic: ${sizes["10x"].toFixed(2)} MiB, ${counts(big)} entries`,
  );

  console.log("\n| index | parser | first parse (ms) | warm median (ms) | retained heap (MiB) | peak RSS growth (MiB) |");
  console.log("|---|---|---|---|---|---|");
  for (const which of ["real", "10x"] as const) {
    const body = which === "real" ? real : big;
    for (const parser of Object.keys(parsers) as Parser[]) {
      const cold = runChild(parser, files[which]);
      const warm: number[] = [];
      for (let i = 0; i < (which === "real" ? 15 : 5); i++) {
        const t0 = performance.now();
        parsers[parser](body);
        warm.push(performance.now() - t0);
      }
      console.log(
        `| ${which} (${sizes[which].toFixed(1)} MiB) | ${parser} | ${cold.ms.toFixed(0)} | ${median(warm).toFixed(1)} | ${cold.retainedMB.toFixed(1)} | ${cold.peakRssMB.toFixed(0)} |`,
      );
    }
  }

  // Polling an unchanged index over HTTP: one 304 each, no parse.
  const server = await startIndexServer({ body: real });
  const idx = new ChartIndex({ url: server.url, log: silentLogger() });
  let t0 = performance.now();
  await idx.get();
  const firstMs = performance.now() - t0;
  const polls = 200;
  t0 = performance.now();
  for (let i = 0; i < polls; i++) await idx.get({ maxAgeMs: 0 });
  const pollMs = (performance.now() - t0) / polls;
  console.log(
    `\npolling the real index over HTTP: first get ${firstMs.toFixed(0)} ms (200 + parse); then ${polls} polls: ` +
      `${server.requests - 1} requests, ${server.notModified} answered 304, ${idx.parseCount - 1} parses, ${pollMs.toFixed(2)} ms per poll`,
  );
  // A warm lookup once parsed.
  const snap = await idx.get();
  t0 = performance.now();
  for (let i = 0; i < 10_000; i++) snap.bySha("binderhub", "441f5ea545d02ef9e3d0d66e5cd1aac8ddc6ac7c");
  console.log(`bySha on the real index: ${(((performance.now() - t0) / 10_000) * 1000).toFixed(2)} µs per lookup`);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === "--child") child(process.argv[3] as Parser, process.argv[4]!);
else await main();
