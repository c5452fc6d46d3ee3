import { firstLine } from "./one-line.ts";

/** Network failures in one line: the cause Node puts at the bottom of a `fetch failed`, never a stack. */

interface Causing {
  code?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
}

/**
 * The real cause of a failed request, from the error's cause chain: "getaddrinfo ENOTFOUND host",
 * "connect ECONNREFUSED 127.0.0.1:1", "UND_ERR_SOCKET: other side closed" (the code put first when
 * the message does not name it), "timed out"; the last message found otherwise. No URL (which may
 * carry a signature) unless an error's own message has one.
 */
export function networkCause(err: unknown): string {
  const seen = new Set<unknown>();
  let c: unknown = err;
  let text = "";
  while (c && typeof c === "object" && !seen.has(c)) {
    seen.add(c);
    const x = c as Causing;
    if (typeof x.code === "string") {
      const m = typeof x.message === "string" ? firstLine(x.message) : "";
      return !m ? x.code : m.includes(x.code) ? m : `${x.code}: ${m}`;
    }
    if (x.name === "TimeoutError" || x.name === "AbortError") return "timed out";
    if (typeof x.message === "string" && x.message) text = firstLine(x.message);
    c = x.cause;
  }
  return text || "network error";
}

/** Causes that no retry will cure soon: the name does not resolve, or nothing listens there. */
const UNREACHABLE = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH"]);

/** Whether a failure means the server cannot be reached at all (DNS failure, connection refused). */
export function unreachable(err: unknown): boolean {
  const seen = new Set<unknown>();
  let c: unknown = err;
  while (c && typeof c === "object" && !seen.has(c)) {
    seen.add(c);
    const x = c as Causing;
    if (typeof x.code === "string" && UNREACHABLE.has(x.code)) return true;
    c = x.cause;
  }
  return false;
}
