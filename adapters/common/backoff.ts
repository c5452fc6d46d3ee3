/**
 * Exponential backoff with "full jitter" (AWS architecture blog): the n-th wait is a random
 * duration in [0, min(max, base·factor^n)], floored at `min`. Jitter keeps a fleet of bots that lost
 * the same server from reconnecting in lock-step. Random and clock are injectable so tests are exact.
 */
export interface BackoffOptions {
  /** First ceiling, ms. Default 1000. */
  baseMs?: number;
  /** Largest wait, ms. Default 60000. */
  maxMs?: number;
  /** Smallest wait, ms (also with jitter). Default 0. */
  minMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** "full": uniform in [min, ceiling]; "none": exactly the ceiling. Default "full". */
  jitter?: "full" | "none";
  /** Returns a number in [0, 1). Default Math.random. */
  random?: () => number;
}

export class Backoff {
  #attempt = 0;
  readonly #base: number;
  readonly #max: number;
  readonly #min: number;
  readonly #factor: number;
  readonly #jitter: "full" | "none";
  readonly #random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.#base = opts.baseMs ?? 1000;
    this.#max = opts.maxMs ?? 60_000;
    this.#min = opts.minMs ?? 0;
    this.#factor = opts.factor ?? 2;
    this.#jitter = opts.jitter ?? "full";
    this.#random = opts.random ?? Math.random;
    if (!(this.#base > 0) || !(this.#max >= this.#base) || this.#min < 0 || this.#min > this.#max || !(this.#factor >= 1))
      throw new Error("backoff: expected 0 < baseMs <= maxMs, 0 <= minMs <= maxMs, factor >= 1");
  }

  /** How many waits have been handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The ceiling of the next wait, without jitter. */
  ceiling(attempt = this.#attempt): number {
    // Cap the exponent so huge attempt counts cannot overflow to Infinity/NaN.
    const exp = Math.min(attempt, 1024);
    return Math.min(this.#max, this.#base * this.#factor ** exp);
  }

  /** The next wait in ms; each call advances the attempt count. */
  next(): number {
    const ceiling = this.ceiling();
    this.#attempt++;
    if (this.#jitter === "none") return Math.max(this.#min, ceiling);
    const lo = Math.min(this.#min, ceiling);
    return Math.round(lo + this.#random() * (ceiling - lo));
  }

  /** After a success: the next failure starts from the base again. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after ms, or rejects when the signal aborts. */
export type Sleeper = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A setTimeout-based sleep that an AbortSignal cancels (for stop()). */
export const sleep: Sleeper = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export interface RetryOptions extends BackoffOptions {
  /** Give up after this many attempts (the first call counts). Default Infinity. */
  attempts?: number;
  /** Return false to give up on this error at once. */
  retryable?: (err: unknown) => boolean;
  /** A wait the error itself asks for (e.g. 429 retry_after_ms), used instead of the backoff when larger. */
  retryAfterMs?: (err: unknown) => number | undefined;
  /** Called before each wait (logging). */
  onRetry?: (err: unknown, waitMs: number, attempt: number) => void;
  sleep?: Sleeper;
  signal?: AbortSignal;
}

/** Calls fn until it resolves, waiting with backoff between failures. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const backoff = new Backoff(opts);
  const max = opts.attempts ?? Number.POSITIVE_INFINITY;
  const doSleep = opts.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted || attempt >= max || (opts.retryable && !opts.retryable(err))) throw err;
      const asked = opts.retryAfterMs?.(err);
      const wait = Math.max(backoff.next(), asked ?? 0);
      opts.onRetry?.(err, wait, attempt);
      await doSleep(wait, opts.signal);
    }
  }
}
