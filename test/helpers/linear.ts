import { expect } from "vitest";

/** Linear cost makes the 4× input about 4× as slow; quadratic about 16×. The margin is generous. */
const LINEAR_LIMIT = 10;

/**
 * The CPU time (user + system, in ms) this process spends on `reps` calls: unlike wall time it does
 * not grow while the process waits for a core, so a busy machine (other test workers, other builds)
 * does not make a linear cost look quadratic. Linux accounts the sum precisely, not per tick.
 */
function timeOf(fn: (input: string) => unknown, input: string, reps: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) fn(input);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/**
 * How many times as long `fn` takes on `big` (4× the size) as on `small`: the fastest of several
 * interleaved trials of each, every trial repeating the call often enough to be measurable. Noise
 * (garbage collection, cache misses) only ever adds time, so the fastest trial is the cost
 * itself. Only a ratio of two timings on the same machine at the same moment, never a wall-clock
 * threshold. A first trial far beyond any linear cost ends the measurement early (a quadratic shape
 * must not make the suite slow), and so do three trials under half the limit: more trials only lower
 * the two minima, and to reach the limit the small input's would have had to be inflated more than
 * twice in each of the three (CPU time, not wall time).
 */
function growth(fn: (input: string) => unknown, small: string, big: string, trials = 7): number {
  fn(small);
  fn(big);
  const once = Math.max(timeOf(fn, small, 1), 0.001);
  const reps = Math.min(50_000, Math.max(1, Math.ceil(4 / once)));
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let t = 0; t < trials; t++) {
    a = Math.min(a, Math.max(timeOf(fn, small, reps), 0.001));
    b = Math.min(b, timeOf(fn, big, reps));
    if (t === 0 && b / a > LINEAR_LIMIT * 4) break;
    if (t >= 2 && b / a < LINEAR_LIMIT / 2) break;
  }
  return b / a;
}

/**
 * Fails unless `fn` costs linear time on `make(size)` vs `make(4 × size)`. A ratio over the limit is
 * measured twice more and the smallest kept, so one noisy moment on a busy machine does not fail it.
 */
export function expectLinear(what: string, fn: (input: string) => unknown, make: (size: number) => string, size: number): void {
  const small = make(size);
  const big = make(size * 4);
  let ratio = growth(fn, small, big);
  for (let again = 0; again < 2 && ratio > LINEAR_LIMIT && ratio < LINEAR_LIMIT * 4; again++)
    ratio = Math.min(ratio, growth(fn, small, big));
  expect(ratio, `${what}: 4× the input cost ${ratio.toFixed(1)}× the time`).toBeLessThan(LINEAR_LIMIT);
}

/** `unit` repeated to `size` characters. */
export function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** A seeded generator of pathological strings: a few of `fragments` glued in a random order, repeated. */
export function shapes(fragments: readonly string[], count: number, seed: number): Array<(size: number) => string> {
  let s = seed >>> 0;
  const rand = (n: number) => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
  const out: Array<(size: number) => string> = [];
  for (let i = 0; i < count; i++) {
    const parts = Array.from({ length: 1 + rand(4) }, () => fragments[rand(fragments.length)] as string);
    const head = rand(2) ? (parts[0] ?? "") : "";
    const unit = parts.join("");
    out.push((size) => head + fill(unit, size));
  }
  return out;
}
