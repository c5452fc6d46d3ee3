/**
 * Text said in one line, for chat replies and log fields: any text clipped to a length, and any
 * thrown value as its message's first line. The core, the sources and the adapters all use these,
 * so the core must not import anything here from an adapter.
 */

/** Whitespace (newlines too) collapsed to single spaces, trimmed, at most `max` characters with "…". */
export function clip(text: string, max = 40): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The first line of a text, trimmed: what comes before a stack, a YAML code frame or git's hints. */
export function firstLine(text: string): string {
  return (text.split("\n", 1)[0] ?? "").trim();
}

/**
 * An error as one line: the message of whatever was thrown (an Error, an object with a string
 * `message`, anything else as text), its first line only, never a stack; "unknown error" when it
 * says nothing. `max` clips it for chat. Adapters add their platform's wording and token
 * scrubbing on top (adapters/matrix/errors.ts, adapters/slack/log.ts).
 */
export function errorLine(err: unknown, max?: number): string {
  const m = (err as { message?: unknown } | null)?.message;
  const text = firstLine(typeof m === "string" ? m : err instanceof Error ? "" : String(err)) || "unknown error";
  return max === undefined ? text : clip(text, max);
}
