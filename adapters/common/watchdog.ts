/**
 * A liveness watchdog for one connection. The adapter calls `heard()` whenever anything arrives
 * (a sync response, a WebSocket ping, an event); when nothing has been heard for `timeoutMs`, the
 * watchdog calls `onSilent` (which should tear the connection down and reconnect) — once per silence:
 * it re-arms only after the next `heard()`, or after `retryMs` if the reconnect itself stays silent.
 * Clock and timers are injectable so tests can advance time without sleeping.
 */
export interface WatchdogTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: WatchdogTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.(); // a watchdog alone must never keep the process alive
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface WatchdogOptions {
  /** Silence longer than this (ms) counts as a dead connection. */
  timeoutMs: number;
  /** Called when the connection has been silent too long. Errors are passed to onError. */
  onSilent: (silentForMs: number) => void | Promise<void>;
  /** After firing with no sign of life, fire again after this long (ms). Default timeoutMs. */
  retryMs?: number;
  onError?: (err: unknown) => void;
  timers?: WatchdogTimers;
}

export class Watchdog {
  readonly #opts: WatchdogOptions;
  readonly #timers: WatchdogTimers;
  #last: number;
  #handle: unknown = null;
  #running = false;
  #fired = 0;

  constructor(opts: WatchdogOptions) {
    if (!(opts.timeoutMs > 0)) throw new Error("watchdog: timeoutMs must be > 0");
    this.#opts = opts;
    this.#timers = opts.timers ?? realTimers;
    this.#last = this.#timers.now();
  }

  /** When something was last heard (ms since epoch, per the injected clock). */
  get lastHeard(): number {
    return this.#last;
  }

  /** How many times onSilent has been called. */
  get fired(): number {
    return this.#fired;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
    this.#last = this.#timers.now();
    this.#arm(this.#opts.timeoutMs);
  }

  stop(): void {
    this.#running = false;
    this.#clear();
  }

  /** Something arrived: the connection is alive. */
  heard(): void {
    this.#last = this.#timers.now();
    if (this.#running) this.#arm(this.#opts.timeoutMs);
  }

  #clear(): void {
    if (this.#handle !== null) this.#timers.clearTimeout(this.#handle);
    this.#handle = null;
  }

  #arm(ms: number): void {
    this.#clear();
    this.#handle = this.#timers.setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#handle = null;
    if (!this.#running) return;
    const silent = this.#timers.now() - this.#last;
    if (silent < this.#opts.timeoutMs) {
      // Heard in the meantime through a path that did not re-arm (or the clock jumped): wait the rest.
      this.#arm(this.#opts.timeoutMs - silent);
      return;
    }
    this.#fired++;
    this.#arm(this.#opts.retryMs ?? this.#opts.timeoutMs);
    try {
      const r = this.#opts.onSilent(silent);
      if (r && typeof (r as Promise<void>).catch === "function") (r as Promise<void>).catch((e) => this.#opts.onError?.(e));
    } catch (err) {
      this.#opts.onError?.(err);
    }
  }
}
