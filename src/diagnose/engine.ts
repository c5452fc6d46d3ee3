/**
 * The diagnosis engine. One pass over the log with bounded memory:
 *  1. normalise each line (timestamps, ANSI, "\r" progress, BOM);
 *  2. track step starts (##[group]Run …, travis_fold:start, Travis "$ command") and keep the last WINDOW lines;
 *  3. the first failure marker (##[error], Travis "The command … exited with N.", …) freezes the failing step;
 *  4. after the marker only the targets of "defers to" overrides are looked for (diagnostic steps print them);
 *  5. at the end: scan the failing step backwards from the marker, skip noise, apply overrides.
 * No marker: a success only on run-level evidence (Travis "Done. Your build exited with 0."; GitHub Actions: a
 * last step that printed no error left unrecovered), and never when the caller knows the job failed. Otherwise
 * the last step (or the log's tail) is scanned the same way, else "unknown" with the suspicious lines.
 */
import { hasGhaTimestamp, LineSplitter, normalizeLine } from "./normalize.ts";
import { type Category, type CiSystem, type LinePattern, loadSignatures, type Signature, type Signatures } from "./signatures.ts";
import type { Verdict } from "./verdict.ts";

/** Lines of the failing step kept before the marker (and of the log's tail when there is no marker). */
const WINDOW = 5000;
/** Lines shown as context of an "unknown" verdict. */
const CONTEXT_LINES = 12;
const MAX_DEFER_DEPTH = 4;

export interface DiagnoseOptions {
  /**
   * The CI reports this job failed (the API's conclusion is ground truth): the verdict is never "success",
   * whatever the log says.
   */
  failed?: boolean;
  /**
   * After the marker, test each line first against one combined pattern of the deferral targets still
   * missing (default true). false keeps the former line-by-line path; only the benchmark uses it.
   */
  prefilter?: boolean;
}

/** One pattern matching wherever any of the signatures' patterns does (named groups made plain). */
function combined(targets: Signature[]): RegExp[] {
  const byFlags = new Map<string, string[]>();
  for (const t of targets)
    for (const p of t.patterns) {
      const flags = p.regex.flags.replace(/[gy]/g, "");
      byFlags.set(flags, [...(byFlags.get(flags) ?? []), p.regex.source.replace(/\(\?<(?![=!])[^>]+>/g, "(?:")]);
    }
  return [...byFlags].map(([flags, sources]) => new RegExp(sources.map((x) => `(?:${x})`).join("|"), flags));
}

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

class Diagnoser {
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
  /** Run-level success evidence (Travis "Done. Your build exited with 0."), before or after a marker. */
  private passed: Line | null = null;
  /** The last step before the job's own steps ended (GitHub Actions "Post job cleanup."), when seen. */
  private lastStep: { lines: Line[]; name: string | null } | null = null;
  private readonly deferTargets: Signature[];
  private readonly after = new Map<string, Hit>();
  /** The deferral targets not yet seen after the marker, and one combined pattern over them. */
  private missing: Signature[] = [];
  private filter: RegExp[] | null = null;

  constructor(
    private readonly sigs: Signatures,
    private readonly opts: DiagnoseOptions = {},
  ) {
    const ids = new Set(sigs.signatures.flatMap((s) => s.defersTo));
    this.deferTargets = sigs.signatures.filter((s) => ids.has(s.id));
    this.missing = this.deferTargets;
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
      if (line.text !== "" && this.matchesAny(this.sigs.passed, line.text)) this.passed = line;
      this.afterMarker(line);
      return;
    }
    this.push(line);
    if (norm.text === "" && norm.segments.length === 0) return;
    if (this.lastStep === null && this.matchesAny(this.sigs.jobEnd, line.text)) {
      this.lastStep = { lines: this.linesFrom(this.stepStart).slice(0, -1), name: this.stepName };
    }
    for (const step of this.sigs.steps) {
      if (!this.applies(step)) continue;
      for (const seg of norm.segments) {
        const m = step.regex.exec(seg);
        if (m) {
          this.stepStart = n;
          this.stepName = m.groups?.name?.trim() || null;
        }
      }
    }
    for (const mk of this.sigs.markers) {
      if (!this.applies(mk)) continue;
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
    if (this.matchesAny(this.sigs.success, line.text)) this.lastSuccess = line;
    if (this.matchesAny(this.sigs.passed, line.text)) this.passed = line;
  }

  private applies(p: LinePattern): boolean {
    return p.system === null || this.system === null || p.system === this.system;
  }

  private matchesAny(patterns: LinePattern[], text: string): boolean {
    for (const p of patterns) if (this.applies(p) && p.regex.test(text)) return true;
    return false;
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

  /** After the marker only the deferral targets are looked for; nothing is done once all were seen. */
  private afterMarker(line: Line): void {
    if (this.missing.length === 0 || line.text.trim() === "") return;
    if (this.opts.prefilter !== false) {
      this.filter ??= combined(this.missing);
      if (!this.filter.some((re) => re.test(line.text))) return;
    }
    let found = false;
    for (const sig of this.missing) {
      const hit = matchSig(sig, line);
      if (hit) {
        this.after.set(sig.id, hit);
        found = true;
      }
    }
    if (found) {
      this.missing = this.missing.filter((s) => !this.after.has(s.id));
      this.filter = null;
    }
  }

  finish(): Verdict {
    const knownFailed = this.opts.failed === true;
    // Travis ran on after a failure that did not fail the build (after_script): the run passed.
    if (this.marker && !(this.passed && this.passed.n > this.marker.n && !knownFailed)) {
      return this.failure(this.region, this.marker);
    }
    if (this.marker) return this.success(this.passed);
    // No failure marker: which step ran last, and did it print errors that nothing recovered from?
    const last = this.lastStep ?? { lines: this.linesFrom(this.stepStart), name: this.stepName };
    const suspicious = this.unrecoveredErrors(last.lines);
    const runPassed = this.system === "gha" ? suspicious.length === 0 : this.passed !== null;
    if (runPassed && !knownFailed) return this.success(this.passed ?? this.lastSuccess);
    if (suspicious.length > 0) {
      // GitHub Actions steps that fail without ##[error] (a Docker action's entrypoint printing its error).
      this.stepName = last.name;
      const hit = this.scan(last.lines, last.lines.length - 1);
      if (hit) return this.fromHit(hit, 0.8);
      return this.unknown(suspicious, null);
    }
    const tail = this.linesFrom(1);
    const hit = this.scan(tail, tail.length - 1);
    if (hit) return this.fromHit(hit, 0.6);
    return this.unknown(tail, null);
  }

  private success(line: Line | null): Verdict {
    return this.verdict("success", null, {
      line: line ?? this.lastSuccess,
      advice: "The run passed: nothing to fix.",
      confidence: this.passed || this.system === "gha" ? 0.9 : 0.6,
    });
  }

  /**
   * Lines of a step that show an error (`error:`, `fatal:` …, or a known failure signature) and that no
   * later success line of the step followed (a retry that worked).
   */
  private unrecoveredErrors(lines: Line[]): Line[] {
    const errors: Line[] = [];
    for (const l of lines) {
      if (l.text === "") continue;
      if (this.isSuspicious(l)) errors.push(l);
      else if (errors.length > 0 && this.matchesAny(this.sigs.success, l.text)) errors.length = 0;
    }
    return errors;
  }

  private isSuspicious(l: Line): boolean {
    if (this.matchesAny(this.sigs.errors, l.text)) return true;
    const hit = firstMatch(this.sigs.signatures, l);
    return hit !== null && hit.category !== "noise";
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

  /** Context of an unknown verdict: the suspicious lines of the step first, then its last lines. */
  private unknown(lines: Line[], marker: Line | null): Verdict {
    const shown = lines.filter((l) => l.text.trim() !== "");
    const suspicious = shown.filter((l) => this.isSuspicious(l)).slice(-CONTEXT_LINES / 2);
    const keep = new Set(suspicious.map((l) => l.n));
    for (let i = shown.length - 1; i >= 0 && keep.size < CONTEXT_LINES; i--) keep.add(shown[i]!.n);
    const context = shown.filter((l) => keep.has(l.n)).map((l) => l.text);
    const where = marker
      ? `before line ${marker.n} ("${marker.text}")`
      : this.opts.failed
        ? "at the end of the log (the CI reports this job failed, but its log shows no failure marker)"
        : "at the end of the log";
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
export function diagnose(text: string, sigs: Signatures = loadSignatures(), opts: DiagnoseOptions = {}): Verdict {
  const d = new Diagnoser(sigs, opts);
  const splitter = new LineSplitter((raw) => d.line(raw));
  splitter.push(text);
  splitter.end();
  return d.finish();
}

/** Characters diagnosed between two turns of the event loop (a few milliseconds of work, whatever the text). */
export const SLICE_CHARS = 64 * 1024;

export interface YieldOptions {
  /** Gives the event loop a turn (default: setImmediate), so other rooms' answers and /healthz are not delayed. */
  yieldToLoop?: () => Promise<void>;
  sliceChars?: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Classify a whole log held in memory without blocking the event loop: the text is fed in slices of
 * SLICE_CHARS with a turn of the event loop between them. Every pattern is linear in the line length and
 * lines are cut at MAX_LINE_CHARS, so no slice takes long. Same verdict as `diagnose`.
 */
export async function diagnoseAsync(
  text: string,
  sigs: Signatures = loadSignatures(),
  opts: DiagnoseOptions & YieldOptions = {},
): Promise<Verdict> {
  const d = new Diagnoser(sigs, opts);
  const splitter = new LineSplitter((raw) => d.line(raw));
  const slice = opts.sliceChars ?? SLICE_CHARS;
  const yieldToLoop = opts.yieldToLoop ?? nextTurn;
  for (let at = 0; at < text.length; at += slice) {
    if (at > 0) await yieldToLoop();
    splitter.push(text.slice(at, at + slice));
  }
  splitter.end();
  return d.finish();
}

/** Classify a log read from a stream (file, HTTP body) with bounded memory, whatever its size, yielding between slices. */
export async function diagnoseStream(
  input: AsyncIterable<string | Buffer> | NodeJS.ReadableStream,
  sigs: Signatures = loadSignatures(),
  opts: DiagnoseOptions & YieldOptions = {},
): Promise<Verdict> {
  const d = new Diagnoser(sigs, opts);
  const splitter = new LineSplitter((raw) => d.line(raw));
  const decoder = new TextDecoder("utf-8");
  const slice = opts.sliceChars ?? SLICE_CHARS;
  const yieldToLoop = opts.yieldToLoop ?? nextTurn;
  let fed = 0;
  for await (const chunk of input as AsyncIterable<string | Buffer | Uint8Array>) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    for (let at = 0; at < text.length; at += slice) {
      if (fed >= slice) {
        fed = 0;
        await yieldToLoop();
      }
      const part = text.slice(at, at + slice);
      splitter.push(part);
      fed += part.length;
    }
  }
  splitter.push(decoder.decode());
  splitter.end();
  return d.finish();
}
