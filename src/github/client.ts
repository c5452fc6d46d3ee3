import { createRequire } from "node:module";
import type { Octokit } from "@octokit/rest";
import type Bottleneck from "bottleneck/light.js";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { networkCause, unreachable } from "../core/network.ts";
import { errorLine, firstLine } from "../core/one-line.ts";
import { timedFetch } from "../source-timing.ts";

export type { Octokit } from "@octokit/rest";

export interface OctokitOptions {
  /** REST API base, e.g. https://api.github.com (or a fake on 127.0.0.1 in tests). */
  apiUrl: string;
  /** Optional token. Never logged. */
  token?: string;
  log: Logger;
  /**
   * Base unit of the retry/rate-limit waits in ms (1000: GitHub's seconds), and of the spacing of
   * writes (GitHub asks for a second between writes, three for those that notify). Tests make it small.
   */
  retryBaseMs?: number;
  /** Retries of a 5xx / network failure (2 by default: about 0.5 s + 2 s). */
  retries?: number;
  /** Longest wait for a rate-limit reset worth retrying once; longer → fail with the reset time. 60 s default. */
  maxRateLimitWaitS?: number;
  /** Per-request timeout; 20 s by default. */
  timeoutMs?: number;
  /** The fetch under the timeout (tests count requests with it). */
  fetch?: typeof fetch;
  /** Aborts every request in progress and any later one (shutdown). */
  signal?: AbortSignal;
}

/**
 * Placed before plugin-retry so its error hook sees a failure first: a DNS failure or a refused
 * connection is not retried (the answer says so at once instead of after ~10 s of retries);
 * 5xx answers and timeouts still are.
 */
function failFast(octokit: Pick<Octokit, "hook">): void {
  octokit.hook.error("request", (error, options) => {
    // plugin-retry reads a request's own `retries` before its default.
    if (unreachable(error)) options.request = { ...options.request, retries: 0 } as typeof options.request;
    throw error;
  });
}

/**
 * Octokit, its plugins and Bottleneck (~35 files) load on the first client, not at start-up: `ask
 * help`, `diagnose` and a bot that has not talked to GitHub yet never pay for them. `require` of these
 * ES modules is synchronous (Node >= 20.19), so the callers' `services.github` stays a plain getter.
 */
const load = createRequire(import.meta.url);
let throttled: (new (o: object) => unknown) | undefined;
let bottleneck: typeof Bottleneck | undefined;
function throttledOctokit(): new (o: object) => unknown {
  if (!throttled) {
    const { Octokit: Rest } = load("@octokit/rest") as typeof import("@octokit/rest");
    const { retry } = load("@octokit/plugin-retry") as typeof import("@octokit/plugin-retry");
    const { throttling } = load("@octokit/plugin-throttling") as typeof import("@octokit/plugin-throttling");
    throttled = Rest.plugin(failFast, retry, throttling) as unknown as new (o: object) => unknown;
  }
  return throttled;
}

/**
 * The one way binderbot talks to GitHub: @octokit/rest with retry (5xx, timeouts; not an unreachable
 * host, see failFast) and throttling
 * (primary and secondary rate limits, each retried at most once, and only when the wait is short —
 * a chat answer must not hang until the hourly reset).
 */
export function createOctokit(opts: OctokitOptions): Octokit {
  const log = opts.log.child({ component: "github" });
  const base = opts.retryBaseMs ?? 1000;
  const maxWait = opts.maxRateLimitWaitS ?? 60;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const describe = (o: { method?: string; url?: string }) => `${o.method ?? "GET"} ${String(o.url ?? "")}`;
  const timed = timedFetch("github", opts.fetch);
  const fetchWithTimeout: typeof fetch = (input, init) =>
    timed(input, {
      ...init,
      signal: AbortSignal.any([init?.signal ?? AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])]),
    });

  const ThrottledOctokit = throttledOctokit();
  return new ThrottledOctokit({
    baseUrl: opts.apiUrl.replace(/\/+$/, ""),
    ...(opts.token ? { auth: opts.token } : {}),
    userAgent: "binderbot",
    request: { fetch: fetchWithTimeout },
    // Octokit's own messages (deprecations, plugin warnings) go to pino; none carries the token.
    log: {
      debug: (msg: string) => log.debug(msg),
      info: (msg: string) => log.debug(msg),
      warn: (msg: string) => log.warn(msg),
      // Octokit reports every failed request here, retries included; callers turn the failure into
      // one line for the user (githubErrorLine), so it is a warning here, not an error of the bot.
      // A 304 is the answer a conditional request hopes for (the deploy pin, unchanged): not a warning.
      error: (msg: string) => (/ - 304 /.test(msg) ? log.debug(msg) : log.warn(msg)),
    },
    retry: { retries: opts.retries ?? 2, retryAfterBaseValue: base / 2 },
    throttle: {
      retryAfterBaseValue: base,
      ...(base === 1000 ? {} : spacing(base)),
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: (retryAfter: number, options: { method?: string; url?: string }, _o: unknown, retryCount: number) => {
        const retrying = retryCount < 1 && retryAfter <= maxWait;
        log.warn({ request: describe(options), retryAfterS: retryAfter, retryCount, retrying }, "GitHub rate limit hit");
        return retrying;
      },
      onSecondaryRateLimit: (retryAfter: number, options: { method?: string; url?: string }, _o: unknown, retryCount: number) => {
        const retrying = retryCount < 1 && retryAfter <= maxWait * 2;
        log.warn(
          { request: describe(options), retryAfterS: retryAfter, retryCount, retrying },
          "GitHub secondary rate limit hit",
        );
        return retrying;
      },
    },
  }) as unknown as Octokit;
}

/** createOctokit for the config's `github:` section (API URL, token): every Octokit of the bot is made here. */
export function githubClient(github: Config["github"], opts: Omit<OctokitOptions, "apiUrl" | "token">): Octokit {
  return createOctokit({ ...opts, apiUrl: github.apiUrl, ...(github.token ? { token: github.token } : {}) });
}

/**
 * plugin-throttling spaces writes 1 s apart (3 s for those that notify someone, 2 s between searches)
 * on groups shared by the whole process. With another base unit the spacing scales with it, on groups
 * of this client's own; with GitHub's seconds the plugin's own groups stay in use.
 */
function spacing(base: number): Record<"write" | "notifications" | "search", Bottleneck.Group> {
  bottleneck ??= load("bottleneck/light.js") as typeof Bottleneck;
  const B = bottleneck;
  const group = (minTime: number) => new B.Group({ maxConcurrent: 1, minTime });
  return { write: group(base), notifications: group(3 * base), search: group(2 * base) };
}

interface ErrorLike {
  status?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  request?: { method?: string; url?: string };
}

/** Octokit throws for a 304 (a conditional request whose resource did not change). */
export function isNotModified(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as ErrorLike).status === 304;
}

/** The HTTP status of an Octokit error, or null for anything else (network, programming errors). */
export function githubStatus(err: unknown): number | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as ErrorLike;
  if (typeof e.status !== "number") return null;
  if (e.status === 500 && !e.response) return null; // Octokit reports network failures as 500 without a response
  return e.status;
}

function hhmm(d: Date): string {
  return `${d.toISOString().slice(11, 16)} UTC`;
}

function inMinutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000));
  return m === 1 ? "in 1 min" : `in ${m} min`;
}

/** GitHub's `message` from an error response body, one line, without the documentation link. */
function apiMessage(e: ErrorLike): string {
  const data = e.response?.data;
  const m = data && typeof data === "object" && "message" in data ? String((data as { message: unknown }).message) : "";
  return firstLine(m)
    .replace(/\s*\(?https?:\/\/\S+\)?\.?$/, "")
    .trim();
}

/** The one wording for a GitHub that is reachable but too slow (a request timeout, an answer not waited for). */
export const GITHUB_SLOW = "GitHub did not answer in time";

/**
 * One clear chat line for a GitHub failure (never a stack, never a token). `what` names the thing
 * asked for ("PR #395 of jupyterhub/binderhub"); `now` is for tests.
 */
export function githubErrorLine(err: unknown, what?: string, now: () => Date = () => new Date()): string {
  if (typeof err !== "object" || err === null) return `GitHub request failed (${String(err)})`;
  const e = err as ErrorLike;
  const status = githubStatus(e);
  const subject = what ?? (e.request?.url ? new URL(e.request.url, "http://x").pathname : "the resource");
  if (status === null) {
    if (typeof e.status === "number" || e.request || e.name === "TimeoutError" || e.name === "AbortError" || e.cause) {
      const cause = networkCause(e);
      return cause === "timed out" ? GITHUB_SLOW : `GitHub unreachable (${cause})`;
    }
    return `GitHub request failed (${errorLine(e)})`;
  }
  const h = e.response?.headers ?? {};
  const msg = apiMessage(e);
  if (status === 404) return `GitHub: ${subject} not found`;
  if (status === 401) return "GitHub: authentication failed (401); check github.token";
  if (status === 403 || status === 429) {
    const remaining = h["x-ratelimit-remaining"];
    const reset = Number(h["x-ratelimit-reset"]);
    if (String(remaining) === "0" && Number.isFinite(reset) && reset > 0) {
      const at = new Date(reset * 1000);
      return `GitHub API rate limit exhausted; it resets at ${hhmm(at)} (${inMinutes(at.getTime() - now().getTime())})`;
    }
    const retryAfter = Number(h["retry-after"]);
    if (status === 429 || /secondary rate limit|abuse/i.test(msg)) {
      return `GitHub is rate-limiting binderbot${Number.isFinite(retryAfter) && retryAfter > 0 ? `; try again in ${retryAfter} s` : "; try again in a minute"}`;
    }
    if (!msg || /permission|not accessible|forbidden|access/i.test(msg)) {
      return `GitHub: access to ${subject} denied (403${msg ? `: ${msg}` : ""}); the token may lack a permission`;
    }
    return `GitHub refused the request for ${subject} (403: ${msg})`;
  }
  if (status === 422) return `GitHub rejected the request for ${subject} (422${msg ? `: ${msg}` : ""})`;
  if (status >= 500) return `GitHub is having trouble (${status}); try again later`;
  return `GitHub: ${subject}: HTTP ${status}${msg ? ` (${msg})` : ""}`;
}
