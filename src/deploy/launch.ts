/**
 * A test launch through BinderHub's build API: `GET /build/gh/<owner>/<repo>/<ref>` answers an event
 * stream (`data: {"phase": …, "message": …}` per event, `:keepalive` comments between) whose phases
 * run waiting → fetching → building → pushing → built → launching → ready, or end in `failed`.
 */

import { networkCause } from "../core/network.ts";
import { timedFetch } from "../source-timing.ts";
import { siteUrl } from "./health.ts";

export interface LaunchEvent {
  phase: string;
  message: string;
  /** Milliseconds since the request was sent. */
  atMs: number;
}

export type LaunchOutcome = "ready" | "failed" | "timeout" | "closed" | "error";

export interface LaunchResult {
  site: string;
  /** The build URL asked. */
  url: string;
  ok: boolean;
  outcome: LaunchOutcome;
  /** One entry per phase change, in order (the first message of each). */
  phases: LaunchEvent[];
  /** The last few messages (any phase), for a launch that did not reach ready. */
  lastMessages: LaunchEvent[];
  totalMs: number;
  /** What went wrong, one line (null when ready). */
  error: string | null;
}

export interface LaunchOptions {
  /** The launch is abandoned after this long (outcome "timeout"). */
  timeoutMs: number;
  /** Called on each phase change, as it comes. */
  onPhase?: (e: LaunchEvent) => void | Promise<void>;
  fetch?: typeof fetch;
  /** Milliseconds clock for durations (performance.now by default). */
  clock?: () => number;
  /** Abandons the launch early (outcome "error"). */
  signal?: AbortSignal;
}

const KEEP_MESSAGES = 6;

/** The build path of a GitHub repository at a ref: `build/gh/<owner>/<repo>/<ref>`. */
function buildPath(repo: string, ref: string): string {
  const [owner, name] = repo.split("/") as [string, string];
  return `build/gh/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/${encodeURIComponent(ref)}`;
}

/** Feeds text chunks; calls `onData` with each event's data (comments and other fields ignored). */
export class EventStreamParser {
  #buf = "";
  #data: string[] = [];
  constructor(private readonly onData: (data: string) => void) {}

  push(chunk: string): void {
    this.#buf += chunk;
    for (let nl = this.#buf.search(/\r\n|\r|\n/); nl >= 0; nl = this.#buf.search(/\r\n|\r|\n/)) {
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
      if (nl === this.#buf.length - 1 && this.#buf[nl] === "\r") break;
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(this.#buf.startsWith("\r\n", nl) ? nl + 2 : nl + 1);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length) this.onData(this.#data.join("\n"));
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.#data.push(value);
  }
}

/** Launches `repo@ref` on a site and follows its event stream until ready, failed, the time limit, or the end. */
export async function testLaunch(
  site: { name: string; url: string },
  spec: { repo: string; ref: string },
  opts: LaunchOptions,
): Promise<LaunchResult> {
  const clock = opts.clock ?? (() => performance.now());
  const t0 = clock();
  const url = siteUrl(site.url, buildPath(spec.repo, spec.ref));
  const result: LaunchResult = {
    site: site.name,
    url,
    ok: false,
    outcome: "closed",
    phases: [],
    lastMessages: [],
    totalMs: 0,
    error: null,
  };
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const pending: Array<void | Promise<void>> = [];
  let done = false;

  const onData = (data: string) => {
    let ev: { phase?: unknown; message?: unknown };
    try {
      ev = JSON.parse(data) as typeof ev;
    } catch {
      return; // not an event of ours
    }
    if (typeof ev.phase !== "string" || done) return;
    const e: LaunchEvent = {
      phase: ev.phase,
      message: typeof ev.message === "string" ? ev.message.trim() : "",
      atMs: Math.round(clock() - t0),
    };
    result.lastMessages.push(e);
    if (result.lastMessages.length > KEEP_MESSAGES) result.lastMessages.shift();
    if (result.phases.at(-1)?.phase !== e.phase) {
      result.phases.push(e);
      if (opts.onPhase) pending.push(opts.onPhase(e));
    }
    if (e.phase === "ready" || e.phase === "failed" || e.phase === "failure") {
      done = true;
      result.outcome = e.phase === "ready" ? "ready" : "failed";
      result.ok = e.phase === "ready";
      if (!result.ok) result.error = e.message || "the build failed";
    }
  };

  try {
    const res = await timedFetch("binderhub", opts.fetch ?? fetch)(url, {
      headers: { accept: "text/event-stream" },
      signal,
    });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      result.outcome = "error";
      result.error = `the build API answered HTTP ${res.status}`;
    } else {
      const parser = new EventStreamParser(onData);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        while (!done) {
          const { value, done: end } = await reader.read();
          if (end) break;
          parser.push(value);
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
      if (!done) result.error = "the event stream ended before the launch was ready";
    }
  } catch (e) {
    if (timeout.aborted) {
      result.outcome = "timeout";
      result.error = `not ready after ${Math.round(opts.timeoutMs / 1000)} s`;
    } else {
      result.outcome = "error";
      result.error = networkCause(e);
    }
  }
  await Promise.allSettled(pending);
  result.totalMs = Math.round(clock() - t0);
  return result;
}
