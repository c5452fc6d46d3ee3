/**
 * The diagnosis engine. One pass over the log with bounded memory:
 *  1. normalise each line (timestamps, ANSI, "\r" progress, BOM);
 *  2. track step starts (##[group]Run …, travis_fold:start, Travis "$ command") and keep the last WINDOW lines;
 *  3. the first failure marker (##[error], Travis "The command … exited with N.", …) freezes the failing step;
 *  4. after the marker only the targets of "defers to" overrides are looked for (diagnostic steps print them);
 *  5. at the end: scan the failing step backwards from the marker, skip noise, apply overrides.
 * No marker: success when a success line is seen, else the tail of the log is scanned the same way.
 */
import { hasGhaTimestamp, LineSplitter, normalizeLine } from "./normalize.ts";
import { type Category, type CiSystem, loadSignatures, type Signature, type Signatures } from "./signatures.ts";
import type { Verdict } from "./verdict.ts";

/** Lines of the failing step kept before the marker (and of the log's tail when there is no marker). */
export const WINDOW = 5000;
/** Lines shown as context of an "unknown" verdict. */
const CONTEXT_LINES = 12;
const MAX_DEFER_DEPTH = 4;

interface Line {
  n: number;
  text: string;
}

interface Hit {
  sig: Signature;
  category: Category;
  advice: string;
  line: Line;
  captures: Record<string, string>;
}

function captureGroups(m: RegExpExecArray): Record<string, string> {
  const out: Record<string, string> = {};
  if (m.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) out[k] = v;
  return out;
}

function matchSig(sig: Signature, line: Line): Hit | null {
  for (const p of sig.patterns) {
    const m = p.regex.exec(line.text);
    if (m) return { sig, category: p.category, advice: p.advice, line, captures: captureGroups(m) };
  }
  return null;
}

/** The first signature (file order) that matches the line. */
function firstMatch(sigs: Signature[], line: Line): Hit | null {
  if (line.text.trim() === "") return null;
  for (const sig of sigs) {
    const hit = matchSig(sig, line);
    if (hit) return hit;
  }
  return null;
}

export class Diagnoser {
  private n = 0;
  private system: CiSystem | null = null;
  /** Ring of the last WINDOW normalised lines (before the marker). */
  private ring: Line[] = [];
  private ringStart = 0;
  private stepStart = 1;
  private stepName: string | null = null;
  private marker: (Line & { id: string; captures: Record<string, string> }) | null = null;
  private region: Line[] = [];
  private lastSuccess: Line | null = null;
  private readonly deferTargets: Signature[];
  private readonly after = new Map<string, Hit>();

  constructor(private readonly sigs: Signatures) {
    const ids = new Set(sigs.signatures.flatMap((s) => s.defersTo));
    this.deferTargets = sigs.signatures.filter((s) => ids.has(s.id));
  }

  /** Feed one raw line (without its "\n"). */
  line(raw: string): void {
    const n = ++this.n;
    if (this.system === null) {
      if (hasGhaTimestamp(raw) || raw.includes("##[group]") || raw.includes("##[error]")) this.system = "gha";
      else if (raw.includes("travis_fold:") || raw.includes("travis_time:")) this.system = "travis";
    }
    const norm = normalizeLine(raw);
    const line: Line = { n, text: norm.text };
    if (this.marker) {
      this.afterMarker(line);
      return;
    }
    this.push(line);
    if (norm.text === "" && norm.segments.length === 0) return;
    for (const step of this.sigs.steps) {
      if (step.system !== null && this.system !== null && step.system !== this.system) continue;
      for (const seg of norm.segments) {
        const m = step.regex.exec(seg);
        if (m) {
          this.stepStart = n;
          this.stepName = m.groups?.name?.trim() || null;
        }
      }
    }
    for (const mk of this.sigs.markers) {
      if (mk.system !== null && this.system !== null && mk.system !== this.system) continue;
      const m = mk.regex.exec(line.text);
      if (m) {
        const captures = captureGroups(m);
        this.marker = { ...line, id: mk.id, captures };
        if (captures.step) this.stepName = captures.step;
        this.region = this.linesFrom(this.stepStart);
        this.ring = [];
        return;
      }
    }
    for (const s of this.sigs.success) {
      if (s.regex.test(line.text)) {
        this.lastSuccess = line;
        break;
      }
    }
  }

  private push(line: Line): void {
    if (this.ring.length < WINDOW) this.ring.push(line);
    else {
      this.ring[this.ringStart] = line;
      this.ringStart = (this.ringStart + 1) % WINDOW;
    }
  }

  private linesFrom(first: number): Line[] {
    const ordered = this.ring.slice(this.ringStart).concat(this.ring.slice(0, this.ringStart));
    return ordered.filter((l) => l.n >= first);
  }

  private afterMarker(line: Line): void {
    if (line.text.trim() === "" || this.after.size === this.deferTargets.length) return;
    for (const sig of this.deferTargets) {
      if (this.after.has(sig.id)) continue;
      const hit = matchSig(sig, line);
      if (hit) this.after.set(sig.id, hit);
    }
  }

  finish(): Verdict {
    if (this.marker) return this.failure(this.region, this.marker);
    if (this.lastSuccess) {
      return this.verdict("success", null, {
        line: this.lastSuccess,
        advice: "The run passed: nothing to fix.",
        confidence: 0.9,
      });
    }
    const tail = this.linesFrom(1);
    const hit = this.scan(tail, tail.length - 1);
    if (hit) return this.fromHit(hit, 0.6);
    if (
      this.system !== null &&
      tail.some((l) => /^Cleaning up orphan processes|^Done\. Your build exited with 0\./.test(l.text))
    ) {
      return this.verdict("success", null, { line: null, advice: "The run shows no failure.", confidence: 0.6 });
    }
    return this.unknown(tail, null);
  }

  private failure(region: Line[], marker: Line): Verdict {
    const hit = this.scan(region, region.length - 1);
    if (hit) return this.fromHit(hit, 1);
    return this.unknown(region.slice(0, -1), marker);
  }

  /** Scan backwards from `from` (inclusive); the first non-noise match, overrides applied. */
  private scan(region: Line[], from: number): Hit | null {
    for (let i = from; i >= 0; i--) {
      const line = region[i]!;
      const hit = firstMatch(this.sigs.signatures, line);
      if (!hit || hit.category === "noise") continue;
      if (this.followedByRetry(hit, region, i)) continue;
      return this.resolve(hit, region, i, 0);
    }
    return null;
  }

  private followedByRetry(hit: Hit, region: Line[], i: number): boolean {
    const rules = hit.sig.noiseWhenFollowedBy;
    if (rules.length === 0) return false;
    const end = Math.min(region.length - 1, i + hit.sig.followedWithin);
    for (let j = i + 1; j <= end; j++) if (rules.some((r) => r.test(region[j]!.text))) return true;
    return false;
  }

  /** "defers to": the nearest target inside the failing step, else the first one after the marker. */
  private resolve(hit: Hit, region: Line[], i: number, depth: number): Hit {
    let result = hit;
    if (hit.sig.defersTo.length > 0 && depth < MAX_DEFER_DEPTH) {
      const targets = hit.sig.defersTo.map((id) => this.sigs.byId.get(id)!);
      const found = this.nearest(targets, region, i) ?? this.firstAfter(targets);
      if (found) {
        const resolved = this.resolve(found.hit, region, found.index, depth + 1);
        result = { ...resolved, captures: { ...hit.captures, ...resolved.captures } };
      }
    }
    if (result === hit && hit.sig.doubtWhenPrecededBy.length > 0) {
      const doubts = hit.sig.doubtWhenPrecededBy.map((id) => this.sigs.byId.get(id)!);
      for (let j = i - 1; j >= 0; j--) {
        if (doubts.some((s) => matchSig(s, region[j]!))) {
          return { ...hit, captures: { ...hit.captures, doubt: region[j]!.text } };
        }
      }
    }
    return result;
  }

  private nearest(targets: Signature[], region: Line[], i: number): { hit: Hit; index: number } | null {
    for (let d = 1; d < region.length; d++) {
      for (const j of [i + d, i - d]) {
        const line = region[j];
        if (!line) continue;
        for (const t of targets) {
          const hit = matchSig(t, line);
          if (hit && hit.category !== "noise") return { hit, index: j };
        }
      }
      if (i + d >= region.length && i - d < 0) break;
    }
    return null;
  }

  private firstAfter(targets: Signature[]): { hit: Hit; index: number } | null {
    let best: Hit | null = null;
    for (const t of targets) {
      const hit = this.after.get(t.id);
      if (hit && hit.category !== "noise" && (!best || hit.line.n < best.line.n)) best = hit;
    }
    return best ? { hit: best, index: -1 } : null;
  }

  private fromHit(hit: Hit, factor: number): Verdict {
    let confidence = hit.sig.confidence * factor;
    let advice = hit.advice;
    if (hit.captures.doubt !== undefined) {
      confidence *= 0.7;
      advice += ` (Less certain: an earlier line of the step, "${hit.captures.doubt}", may be the real cause.)`;
    }
    return this.verdict(hit.category as "spurious" | "legitimate", hit, {
      line: hit.line,
      advice,
      confidence: Math.round(confidence * 100) / 100,
    });
  }

  private unknown(lines: Line[], marker: Line | null): Verdict {
    const context = lines
      .filter((l) => l.text.trim() !== "")
      .slice(-CONTEXT_LINES)
      .map((l) => l.text);
    const where = marker ? `before line ${marker.n} ("${marker.text}")` : "at the end of the log";
    return this.verdict("unknown", null, {
      line: null,
      advice:
        this.n === 0 || context.length === 0
          ? "The log is empty: nothing to diagnose. Check that the right job's log was fetched."
          : `No known signature matched; read the last lines ${where}. If it is new, add it to config/signatures.yaml.`,
      confidence: 0,
      context,
    });
  }

  private verdict(
    kind: Verdict["verdict"],
    hit: Hit | null,
    o: { line: Line | null; advice: string; confidence: number; context?: string[] },
  ): Verdict {
    const captures = { ...(hit?.captures ?? {}) };
    delete captures.doubt;
    return {
      verdict: kind,
      signature:
        hit && (hit.category === "spurious" || hit.category === "legitimate")
          ? { id: hit.sig.id, category: hit.category, title: hit.sig.title, family: hit.sig.family }
          : null,
      line: o.line?.n ?? null,
      text: o.line?.text ?? null,
      step: kind === "success" ? null : this.stepName,
      advice: o.advice,
      confidence: o.confidence,
      captures,
      context: o.context ?? [],
      marker: this.marker ? { line: this.marker.n, text: this.marker.text } : null,
    };
  }
}

/** Classify a whole log held in memory. */
export function diagnose(text: string, sigs: Signatures = loadSignatures()): Verdict {
  const d = new Diagnoser(sigs);
  const splitter = new LineSplitter((raw) => d.line(raw));
  splitter.push(text);
  splitter.end();
  return d.finish();
}

/** Classify a log read from a stream (file, HTTP body) with bounded memory, whatever its size. */
export async function diagnoseStream(
  input: AsyncIterable<string | Buffer> | NodeJS.ReadableStream,
  sigs: Signatures = loadSignatures(),
): Promise<Verdict> {
  const d = new Diagnoser(sigs);
  const splitter = new LineSplitter((raw) => d.line(raw));
  const decoder = new TextDecoder("utf-8");
  for await (const chunk of input as AsyncIterable<string | Buffer | Uint8Array>) {
    splitter.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
  }
  splitter.push(decoder.decode());
  splitter.end();
  return d.finish();
}
