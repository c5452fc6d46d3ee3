/**
 * Log normalisation: one ORIGINAL line (split on "\n") in, the text a human would see out.
 * Line numbers never change: markers such as ##[group] or travis_fold stay lines of their own.
 */

/** GitHub Actions prefixes every line with an RFC 3339 timestamp (7 fractional digits), the first line with a BOM. */
const GHA_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/;
/** CSI (colours, erase line), OSC (titles, links) and two-byte escapes. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;
/** Control characters other than tab (binary junk, backspaces). */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/**
 * Longest "\r" segment kept for matching: a longer line (binary junk, minified output, a progress bar
 * redrawn thousands of times) keeps its last non-empty "\r" segment (what the terminal showed), cut to
 * its first MAX_LINE_CHARS characters, plus its first segments when they are short (Travis fold and time
 * markers glued to the output). Every signature pattern is linear in the line length, so this cut bounds
 * the cost of a line; it does not make a pattern safe.
 */
export const MAX_LINE_CHARS = 8192;
/** Leading "\r" segments of a cut line are kept while they add up to at most this many characters. */
const HEAD_CHARS = 512;

const blank = (segment: string) => clean(segment).trim() === "";

/**
 * A long raw line cut to what is matched: its short leading "\r" segments and its last non-empty one,
 * each at most `max` characters. With `partial` (a line still being read) the segment after the last
 * "\r" is kept even when empty, so that what follows is appended to the right segment.
 */
function cutLine(raw: string, max = MAX_LINE_CHARS, partial = false): string {
  if (!raw.includes("\r")) return raw.length > max ? raw.slice(0, max) : raw;
  const parts = raw.split("\r");
  const lastIndex = parts.length - 1;
  let last = lastIndex;
  while (last > 0 && blank(parts[last]!)) last--;
  const keep: string[] = [];
  let head = 0;
  for (let i = 0; i < last && head + parts[i]!.length <= HEAD_CHARS; i++) {
    head += parts[i]!.length;
    keep.push(parts[i]!);
  }
  keep.push(parts[last]!.slice(0, max));
  if (partial && last < lastIndex) keep.push(parts[lastIndex]!.slice(0, max));
  return keep.join("\r");
}

export interface NormalizedLine {
  /** What the terminal would show: the last non-empty "\r" segment, without timestamp, ANSI or control chars. */
  text: string;
  /** Every non-empty "\r" segment (Travis puts fold/time markers and output on one physical line). */
  segments: string[];
}

function clean(segment: string): string {
  return segment.replace(ANSI, "").replace(CONTROL, "").trimEnd();
}

export function normalizeLine(raw: string): NormalizedLine {
  let line = raw.length > MAX_LINE_CHARS ? cutLine(raw) : raw;
  if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
  // colour codes first: a coloured line may start with ESC[…m before the timestamp
  if (line.includes("\x1b")) line = line.replace(ANSI, "");
  line = line.replace(GHA_TIMESTAMP, "");
  if (!line.includes("\r")) {
    const text = clean(line);
    return { text, segments: text === "" ? [] : [text] };
  }
  const segments: string[] = [];
  for (const part of line.split("\r")) {
    const seg = clean(part);
    if (seg.trim() !== "") segments.push(seg);
  }
  return { text: segments.at(-1) ?? "", segments };
}

/** Does this raw line carry a GitHub Actions timestamp? (Used to tell the log's CI system.) */
export function hasGhaTimestamp(raw: string): boolean {
  return GHA_TIMESTAMP.test(raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
}

/**
 * Splits a stream of chunks into lines with bounded memory: a line longer than `maxChars` is cut as
 * `cutLine` says (its last "\r" segment is kept), so binary junk without newlines cannot grow the buffer.
 */
export class LineSplitter {
  private carry = "";
  constructor(
    private readonly onLine: (raw: string) => void,
    private readonly maxChars = MAX_LINE_CHARS,
  ) {}

  private emit(line: string): void {
    this.onLine(line.length > this.maxChars ? cutLine(line, this.maxChars) : line);
  }

  push(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf("\n", start);
      if (nl === -1) break;
      const piece = chunk.slice(start, nl);
      this.emit(this.carry === "" ? piece : this.carry + piece);
      this.carry = "";
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.carry += start === 0 ? chunk : chunk.slice(start);
      // compact a long partial line now and then (amortised linear): what is cut here is cut at the end too
      if (this.carry.length > 2 * this.maxChars + HEAD_CHARS) this.carry = cutLine(this.carry, this.maxChars, true);
    }
  }

  /** Emits the last line when the input did not end with "\n". */
  end(): void {
    if (this.carry !== "") this.emit(this.carry);
    this.carry = "";
  }
}
