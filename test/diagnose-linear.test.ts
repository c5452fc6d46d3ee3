import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { diagnose, diagnoseAsync, loadSignatures, SLICE_CHARS } from "../src/diagnose/index.ts";
import { LineSplitter, MAX_LINE_CHARS, normalizeLine } from "../src/diagnose/normalize.ts";
import { expectLinear, fill, shapes } from "./helpers/linear.ts";

// The diagnosis engine reads downloaded logs anyone can make the CI print: every signature pattern and the
// engine as a whole must cost linear time in the line length and in the number of lines (issue #9). Each
// check compares an input with one 4× as large (a ratio of two timings, never a wall-clock threshold).

const sigs = loadSignatures();
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
}
const base64 = (n: number, seed = 1) => {
  const r = seeded(seed);
  return Array.from({ length: n }, () => B64[r() % 64]).join("");
};

/** Every pattern the engine runs on a line: steps, markers, success/passed/job-end/error lines, signatures. */
const patterns: Array<[string, RegExp]> = [
  ...(["steps", "markers", "success", "passed", "jobEnd", "errors"] as const).flatMap((k) =>
    sigs[k].map((p) => [`${k} ${p.id}`, p.regex] as [string, RegExp]),
  ),
  ...sigs.signatures.flatMap((s) => [
    ...s.patterns.map((p, i) => [`${s.id} patterns[${i}]`, p.regex] as [string, RegExp]),
    ...s.noiseWhenFollowedBy.map((r, i) => [`${s.id} noise_when_followed_by[${i}]`, r] as [string, RegExp]),
  ]),
];

/** The literal words of a pattern (escapes resolved, syntax dropped): what a hostile line repeats. */
function literals(source: string): string[] {
  const plain = source
    .replace(/\(\?(?:<[=!]|[:=!]|<\w+>)/g, "(")
    .replace(/\\([\\.()[\]"'?*+|{}^$/-])/g, "$1")
    .replace(/\\[sSdDwWb]/g, " ");
  const words = plain.split(/[()[\]|*+?{}^$]+/).filter((w) => w.length >= 2);
  return words.length > 0 ? words : ["a"];
}

/** Lines built from a pattern's own words, repeated: the shapes that make a backtracking pattern quadratic. */
const perPattern: Array<[string, (words: string[]) => string]> = [
  ["its first word, repeated", (w) => `${w[0]}a`],
  ["all words but the last, with spaces", (w) => `${(w.length > 1 ? w.slice(0, -1) : w).join(" ")} x `],
];

const GROUP = 15;

/**
 * expectLinear, measured afresh up to twice more when it fails: on a busy machine one stalled timing can
 * make a linear cost look quadratic, while a quadratic cost fails every attempt.
 */
function linear(what: string, fn: (input: string) => unknown, make: (size: number) => string, size: number): void {
  for (let attempt = 1; ; attempt++) {
    try {
      expectLinear(what, fn, make, size);
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}
const LINE = 1800; // 4× stays under MAX_LINE_CHARS: the cut must not hide a quadratic pattern

describe("linear cost of the diagnosis", () => {
  for (const [shape, unit] of perPattern) {
    for (let g = 0; g < patterns.length; g += GROUP) {
      const group = patterns.slice(g, g + GROUP);
      const ids = group.map(([id]) => id).join(", ");
      it(`patterns ${ids}: ${shape}`, () => {
        const units = group.map(([, re]) => unit(literals(re.source)));
        const split = new Map<string, string[]>(); // split once: the timing is of the patterns alone
        const run = (text: string) => {
          let lines = split.get(text);
          if (!lines) {
            lines = text.split("\n");
            split.set(text, lines);
          }
          for (let i = 0; i < group.length; i++) group[i]![1].exec(lines[i]!);
        };
        linear(`${ids} on ${shape}`, run, (n) => units.map((u) => fill(u, n)).join("\n"), LINE);
      });
    }
  }

  const engine = (text: string) => diagnose(text, sigs);
  const logOf = (line: (n: number, i: number) => string, lines: number) => (n: number) =>
    Array.from({ length: lines }, (_, i) => line(n, i)).join("\n");
  const lineShapes: Array<[string, (n: number, i: number) => string]> = [
    ["long lines without spaces", (n) => fill("a", n)],
    ["base64-like lines", (n, i) => base64(n, i + 1)],
    ["quotes and spaces", (n) => fill('" ', n)],
    ["colons and brackets", (n) => fill(": ] [", n)],
    ["a progress bar redrawn with \\r", (n) => fill("\r 42% [=====>    ] 1.2M", n)],
    ["ANSI escapes without an end", (n) => fill("\x1b]0;\x1b[", n)],
  ];
  it.each(lineShapes)("the engine on %s: cost linear in the line length", (what, line) =>
    linear(what, engine, logOf(line, 12), LINE),
  );
  it.each(lineShapes.slice(0, 2))("the engine on %s: cost linear in the number of lines", (what, line) =>
    linear(what, engine, (n) => logOf((m, i) => line(m, i), n)(400), 40),
  );

  // A seeded generator of pathological lines from the signatures' own words and the characters they bound on.
  const words = [...new Set(patterns.flatMap(([, re]) => literals(re.source)))].filter((w) => w.length < 40);
  const pick = seeded(2026);
  const fragments = [
    ...Array.from({ length: 24 }, () => words[pick() % words.length]!),
    '"',
    " ",
    ":",
    "\r",
    "\t",
    "##[error]",
    "Error: ",
    "0",
    "/",
    "=",
  ];
  it.each(shapes(fragments, 4, 77).map((make, i) => [i, make] as const))("the engine on random shape %i", (i, make) =>
    linear(`random shape ${i}: ${JSON.stringify(make(60))}`, engine, logOf(make, 12), LINE),
  );
});

describe("long lines are cut, keeping what the terminal showed", () => {
  it(`a line longer than ${MAX_LINE_CHARS} characters keeps its last \\r segment and its leading markers`, () => {
    const raw = `travis_fold:start:dpl.2\r\x1b[0K${"  3% [>        ]\r".repeat(60_000)}Error: UPGRADE FAILED: transport is closing`;
    const n = normalizeLine(raw);
    expect(n.text).toBe("Error: UPGRADE FAILED: transport is closing");
    expect(n.segments[0]).toBe("travis_fold:start:dpl.2");
    expect(normalizeLine(`${"x".repeat(3 * MAX_LINE_CHARS)}\rlast`).text).toBe("last");
    expect(normalizeLine("x".repeat(3 * MAX_LINE_CHARS)).text).toHaveLength(MAX_LINE_CHARS);
  });

  it("streamed in small chunks, a huge line gives the same text as the whole line, with bounded memory", () => {
    const raw = `${fill("100%\r 12%\r", 200_000)}${"y".repeat(20_000)}\r\r`;
    const seen: string[] = [];
    const splitter = new LineSplitter((l) => seen.push(l));
    for (let i = 0; i < raw.length; i += 999) splitter.push(raw.slice(i, i + 999));
    splitter.push("\nnext\n");
    splitter.end();
    expect(seen.map((l) => normalizeLine(l).text)).toEqual(["y".repeat(MAX_LINE_CHARS), "next"]);
    expect(seen[0]!.length).toBeLessThanOrEqual(2 * MAX_LINE_CHARS + 2);
  });

  it("the cause on a cut line is still found", () => {
    const log = `$ helm upgrade staging mybinder\n${fill("#", 50_000)}\rError: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\nDone. Your build exited with 1.\n`;
    expect(diagnose(log, sigs)).toMatchObject({ verdict: "spurious", signature: { id: "H15" }, line: 2 });
  });
});

describe("the bot diagnoses a downloaded log off the event loop", () => {
  it("in slices with turns of the event loop between them: an HTTP request is answered mid-diagnosis", async () => {
    const server = createServer((_, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
      const log = `${Array.from({ length: 1500 }, (_, i) => base64(200, i)).join("\n")}\n##[error]Process completed with exit code 1.\n`;
      let turns = 0;
      let finished = false;
      let answeredMidway: string | null = null;
      const pending = diagnoseAsync(log, sigs, {
        failed: true,
        yieldToLoop: async () => {
          turns++;
          await new Promise<void>((r) => setImmediate(r));
          if (turns === 1) answeredMidway = finished ? "after" : await (await fetch(url)).text();
        },
      }).then((v) => {
        finished = true;
        return v;
      });
      const v = await pending;
      expect(answeredMidway).toBe("ok");
      expect(turns).toBeGreaterThanOrEqual(Math.floor(log.length / SLICE_CHARS) - 1);
      expect(v).toEqual(diagnose(log, sigs, { failed: true }));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
