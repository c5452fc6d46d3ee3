import type { Store } from "../../src/store/store.ts";

export interface DedupeOptions {
  /** Most ids remembered in memory (least recently seen are forgotten first). */
  max?: number;
  /** How long an id is remembered (memory and store). Slack retries within minutes; default 1 h. */
  ttlMs?: number;
  /** When given, ids are also written here, so a restarted bot does not answer a re-delivery twice. */
  store?: Store;
  /** Key prefix in the store, e.g. "dedupe:slack:". */
  prefix?: string;
  now?: () => number;
  /** Told when the store fails; deduplication then continues in memory only. */
  onStoreError?: (err: unknown) => void;
}

/**
 * Remembers platform event ids (Slack `event_id`, Matrix `event_id`, GitHub `X-GitHub-Delivery`) so
 * an event delivered twice is handled once. A bounded LRU with TTL in memory, optionally backed by
 * the Store. `claim` marks the id synchronously before any await, so two concurrent deliveries of the
 * same id cannot both win on this process; the Store's atomic claim decides between replicas.
 */
export class Dedupe {
  readonly #seen = new Map<string, number>(); // id → expiry (ms); Map order = recency
  readonly #max: number;
  readonly #ttl: number;
  readonly #store: Store | undefined;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #onStoreError: (err: unknown) => void;

  constructor(opts: DedupeOptions = {}) {
    this.#max = opts.max ?? 10_000;
    this.#ttl = opts.ttlMs ?? 60 * 60 * 1000;
    this.#store = opts.store;
    this.#prefix = opts.prefix ?? "dedupe:";
    this.#now = opts.now ?? Date.now;
    this.#onStoreError = opts.onStoreError ?? (() => {});
    if (this.#max < 1) throw new Error("Dedupe max must be at least 1");
  }

  /** Ids remembered in memory right now (expired ones included until touched). */
  get size(): number {
    return this.#seen.size;
  }

  /** True when `id` was seen (and not yet expired), in memory only; does not mark it. */
  has(id: string): boolean {
    const exp = this.#seen.get(id);
    if (exp === undefined) return false;
    if (exp <= this.#now()) {
      this.#seen.delete(id);
      return false;
    }
    return true;
  }

  /**
   * True the first time an id is claimed (handle the event), false for a repeat within the TTL
   * (drop it). With a store, an id claimed before a restart is also a repeat.
   */
  async claim(id: string): Promise<boolean> {
    if (this.has(id)) {
      this.#touch(id);
      return false;
    }
    this.#remember(id);
    const store = this.#store;
    if (!store) return true;
    try {
      // Atomic across replicas on Redis: of several bots given the same delivery, one answers.
      return await store.claim(this.#prefix + id, this.#ttl);
    } catch (err) {
      this.#onStoreError(err);
      return true;
    }
  }

  /** Forgets an id, so a later delivery is handled (e.g. when handling failed before anything was said). */
  async release(id: string): Promise<void> {
    this.#seen.delete(id);
    if (this.#store) await this.#store.delete(this.#prefix + id).catch(this.#onStoreError);
  }

  #touch(id: string): void {
    const exp = this.#seen.get(id);
    if (exp === undefined) return;
    this.#seen.delete(id);
    this.#seen.set(id, exp);
  }

  #remember(id: string): void {
    this.#seen.delete(id);
    this.#seen.set(id, this.#now() + this.#ttl);
    while (this.#seen.size > this.#max) {
      const oldest = this.#seen.keys().next().value as string;
      this.#seen.delete(oldest);
    }
  }
}
