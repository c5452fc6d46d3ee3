/**
 * Diagnosis of a 50 MB CI log: time and peak memory. Run: npx tsx bench/diagnose-50mb.ts
 *
 * Each scenario runs in a fresh process (so peak RSS is its own), on a temp file:
 *  - tail:  a GHA log of realistic lines (the shared corpus, or our fixtures), failure at the very end;
 *  - early: the failure marker near the start, then 50 MB of diagnostics (every line is checked for
 *           the targets of "defers to" overrides: the slow path);
 *  - junk:  50 MB of random bytes (few newlines, huge "lines");
 *  - memory: the same "tail" file read whole with readFileSync + diagnose(text), for comparison;
 *  - early, line by line: the "early" file with the combined pre-filter off ({ prefilter: false }), the
 *           slow path as it was before issue #12, for the ratio in the same run.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { diagnose, diagnoseStream, loadSignatures } from "../src/diagnose/index.ts";
import { corpusBlock, DEPLOY_STEP, EARLY_FAILURE, LAST_DIAGNOSTIC } from "./log-corpus.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SIZE = 50 * 1024 * 1024;

async function write(file: string, head: string[], body: () => string, tail: string[]): Promise<void> {
  const out = createWriteStream(file);
  let size = 0;
  const put = async (s: string) => {
    size += Buffer.byteLength(s);
    if (!out.write(s)) await new Promise<void>((r) => out.once("drain", () => r()));
  };
  for (const l of head) await put(`${l}\n`);
  while (size < SIZE) await put(body());
  for (const l of tail) await put(`${l}\n`);
  await new Promise<void>((r) => out.end(() => r()));
}

async function makeFiles(dir: string): Promise<{ tail: string; early: string; junk: string }> {
  const block = corpusBlock();
  const files = { tail: join(dir, "tail.log"), early: join(dir, "early.log"), junk: join(dir, "junk.log") };
  await write(files.tail, [], () => `${block}${DEPLOY_STEP}\n`, [
    "2026-03-20T09:10:00.0000000Z Error: UPGRADE FAILED: context deadline exceeded",
    "2026-03-20T09:10:00.0000000Z ##[error]Process completed with exit code 1.",
  ]);
  await write(files.early, EARLY_FAILURE, () => block, [LAST_DIAGNOSTIC]);
  let seed = 7;
  const junk = Buffer.alloc(1 << 20);
  for (let i = 0; i < junk.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    junk[i] = (seed >> 16) & 0xff;
  }
  const junkText = junk.toString("latin1");
  await write(files.junk, [], () => junkText, []);
  return files;
}

async function one(scenario: string, file: string): Promise<void> {
  const sigs = loadSignatures();
  let peakHeap = 0;
  const timer = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 5);
  const t0 = performance.now();
  const v =
    scenario === "baseline"
      ? diagnose("", sigs)
      : scenario === "memory"
        ? diagnose(readFileSync(file, "utf8"), sigs)
        : await diagnoseStream(createReadStream(file), sigs, scenario === "early, line by line" ? { prefilter: false } : {});
  const ms = performance.now() - t0;
  clearInterval(timer);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      scenario,
      ms,
      maxRssMiB,
      peakHeapMiB: peakHeap / 2 ** 20,
      verdict: v.verdict,
      signature: v.signature?.id ?? null,
      line: v.line,
    }),
  );
}

if (process.argv[2] === "--one") {
  await one(process.argv[3]!, process.argv[4]!);
} else {
  const dir = mkdtempSync(join(tmpdir(), "bench-diagnose-"));
  try {
    const files = await makeFiles(dir);
    console.log(
      `node ${process.version}; files: ${Object.entries(files)
        .map(([k, f]) => `${k} ${(statSync(f).size / 2 ** 20).toFixed(1)} MiB`)
        .join(", ")}`,
    );
    console.log("| scenario | time (ms) | peak RSS (MiB) | peak heap (MiB) | verdict |");
    console.log("|---|---|---|---|---|");
    for (const [scenario, file] of [
      ["baseline", files.tail],
      ["tail", files.tail],
      ["early", files.early],
      ["early, line by line", files.early],
      ["junk", files.junk],
      ["memory", files.tail],
    ] as const) {
      const runs = [1, 2, 3].map(() => {
        const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--one", scenario, file], {
          cwd: root,
          encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(r.stderr);
        return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
          ms: number;
          maxRssMiB: number;
          peakHeapMiB: number;
          verdict: string;
          signature: string | null;
          line: number | null;
        };
      });
      runs.sort((a, b) => a.ms - b.ms);
      const med = runs[1]!;
      console.log(
        `| ${scenario} | ${med.ms.toFixed(0)} | ${Math.max(...runs.map((r) => r.maxRssMiB)).toFixed(0)} | ${Math.max(...runs.map((r) => r.peakHeapMiB)).toFixed(0)} | ${med.verdict} ${med.signature ?? ""} ${med.line ?? ""} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
