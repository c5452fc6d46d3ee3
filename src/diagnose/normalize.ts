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

/** Longest line text kept for matching; longer lines (binary junk, minified output) are cut. */
export const MAX_LINE_CHARS = 8192;

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
  let line = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) : raw;
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
 * Splits a stream of chunks into lines with bounded memory: a line longer than `maxChars` is cut
 * (the rest is skipped up to the next "\n"), so binary junk without newlines cannot grow the buffer.
 */
export class LineSplitter {
  private carry = "";
  private skipping = false;
  constructor(
    private readonly onLine: (raw: string) => void,
    private readonly maxChars = MAX_LINE_CHARS * 2,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf("\n", start);
      if (nl === -1) break;
      const piece = chunk.slice(start, nl);
      if (this.skipping) {
        this.onLine(this.carry);
        this.skipping = false;
      } else {
        this.onLine(this.carry === "" ? piece : this.carry + piece);
      }
      this.carry = "";
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipping) {
      this.carry += chunk.slice(start);
      if (this.carry.length > this.maxChars) {
        this.carry = this.carry.slice(0, this.maxChars);
        this.skipping = true;
      }
    }
  }

  /** Emits the last line when the input did not end with "\n". */
  end(): void {
    if (this.carry !== "" || this.skipping) this.onLine(this.carry);
    this.carry = "";
    this.skipping = false;
  }
}
