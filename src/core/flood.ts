/**
 * Per-user flood control: at most `max` commands in any `perSeconds` window. The first command
 * over the limit gets one polite refusal; the rest of the burst gets silence.
 */
export interface FloodOptions {
  max: number;
  perSeconds: number;
}

export type FloodDecision = "allow" | "refuse" | "silent";

export class FloodControl {
  readonly #seen = new Map<string, { times: number[]; warned: boolean }>();

  constructor(
    private readonly opts: FloodOptions,
    private readonly now: () => number = Date.now,
  ) {}

  check(user: string): FloodDecision {
    if (this.opts.max <= 0) return "allow";
    const t = this.now();
    const windowMs = this.opts.perSeconds * 1000;
    const entry = this.#seen.get(user) ?? { times: [], warned: false };
    entry.times = entry.times.filter((x) => t - x < windowMs);
    if (entry.times.length < this.opts.max) {
      entry.times.push(t);
      entry.warned = false;
      this.#seen.set(user, entry);
      this.#prune(t, windowMs);
      return "allow";
    }
    this.#seen.set(user, entry);
    if (entry.warned) return "silent";
    entry.warned = true;
    return "refuse";
  }

  /** Forget users idle for a whole window, so the map does not grow without bound. */
  #prune(t: number, windowMs: number): void {
    if (this.#seen.size < 1000) return;
    for (const [k, v] of this.#seen) if (v.times.every((x) => t - x >= windowMs)) this.#seen.delete(k);
  }
}
