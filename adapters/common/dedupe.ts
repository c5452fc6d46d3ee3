import { randomUUID } from "node:crypto";
import type { Store } from "../../src/store/store.ts";

export interface DedupeOptions {
  /** Most ids remembered in memory (least recently seen are forgotten first). */
  max?: number;
  /** How long a handled id is remembered (memory and store). Slack retries within minutes; default 1 h. */
  ttlMs?: number;
  /**
   * How long a claim stays "in progress" without being renewed (default 30 s). A live handler renews
   * it every third of that; a process that died stops renewing, so its claim lapses and a
   * redelivery is answered.
   */
  leaseMs?: number;
  /** When given, ids are also written here, so a restarted bot does not answer a re-delivery twice. */
  store?: Store;
  /** Key prefix in the store, e.g. "dedupe:slack:". */
  prefix?: string;
  now?: () => number;
  /** Told when the store fails; deduplication then continues in memory only. */
  onStoreError?: (err: unknown) => void;
}

/** What the store holds for an id: in progress (by whom, until when) or done (older versions: a number). */
type ClaimValue = { state: "working"; owner: string; until: number } | { state: "done" } | number;

/**
 * Remembers platform event ids (Slack `event_id`, Matrix `event_id`, GitHub `X-GitHub-Delivery`) so
 * an event delivered twice is answered once, and an event whose answer was never sent (the process
 * died in between) is answered when it is delivered again.
 *
 * `claim` marks the id "in progress" with a short lease that is renewed while the handler runs;
 * `done` marks it handled once the reply was sent; `release` forgets it (nothing was said). A
 * redelivery finds: done → dropped; in progress by a live handler → waits for it (then dropped, or
 * taken over when the lease lapses); in progress by a process that is gone → taken over. On a store
 * only this process uses (sqlite, memory) a claim of an earlier process is gone at once; on Redis
 * (several replicas) only when its lease lapses. In memory, a bounded LRU with TTL marks the id
 * synchronously before any await, so two concurrent deliveries on this process cannot both win.
 */
export class Dedupe {
  readonly #seen = new Map<string, number>(); // id → expiry (ms); Map order = recency
  /** Who holds our claims: this Dedupe of this process. On a store only this process uses, a claim of another owner is stale. */
  readonly #owner = randomUUID();
  readonly #renewals = new Map<string, ReturnType<typeof setInterval>>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #lease: number;
  readonly #store: Store | undefined;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #onStoreError: (err: unknown) => void;
  #stopped = new AbortController();
  /** The store is failing: told once (onStoreError), again only after it worked in between. */
  #storeFailing = false;

  constructor(opts: DedupeOptions = {}) {
    this.#max = opts.max ?? 10_000;
    this.#ttl = opts.ttlMs ?? 60 * 60 * 1000;
    this.#lease = opts.leaseMs ?? 30_000;
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
   * True when this call should handle the event (it is now "in progress" here; call `done` once the
   * reply was sent, or `release`), false for a repeat. A claim in progress elsewhere is waited for.
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
      const won = await this.#claimInStore(store, this.#prefix + id);
      this.#storeFailing = false;
      if (won) this.#renew(id);
      else if (won === null) this.#seen.delete(id); // stopped while waiting: a later delivery may still answer
      return won === true;
    } catch (err) {
      this.#storeError(err);
      return true;
    }
  }

  /** The reply was sent: a redelivery is a duplicate from now on, here and after a restart. */
  async done(id: string): Promise<void> {
    this.#stopRenewing(id);
    if (this.#store)
      await this.#store
        .set<ClaimValue>(this.#prefix + id, { state: "done" }, this.#ttl)
        .catch((e: unknown) => this.#storeError(e));
  }

  /** Forgets an id, so a later delivery is handled (e.g. when handling failed before anything was said). */
  async release(id: string): Promise<void> {
    this.#stopRenewing(id);
    this.#seen.delete(id);
    if (this.#store) await this.#store.delete(this.#prefix + id).catch((e: unknown) => this.#storeError(e));
  }

  /** Stops renewing leases and waiting for others' (shutdown): what is unfinished lapses and is redelivered. */
  stop(): void {
    this.#stopped.abort();
    this.#stopped = new AbortController(); // a restarted adapter claims again
    for (const t of this.#renewals.values()) clearInterval(t);
    this.#renewals.clear();
  }

  /** true: ours now; false: done elsewhere; null: stopped while waiting. */
  async #claimInStore(store: Store, key: string): Promise<boolean | null> {
    const exclusive = store.kind !== "redis";
    const stopped = this.#stopped.signal;
    for (;;) {
      if (stopped.aborted) return null;
      if (await store.claim(key, this.#lease, this.#working())) return true;
      const cur = await store.get<ClaimValue>(key);
      if (cur === undefined) continue; // lapsed between the two calls
      if (typeof cur === "number" || cur.state === "done") return false;
      if (exclusive && cur.owner !== this.#owner) {
        // Only this process uses the store: the claim is an earlier process's, which died mid-answer.
        let took = false;
        await store.update<ClaimValue>(
          key,
          (c) => {
            if (typeof c !== "object" || c.state !== "working" || c.owner !== cur.owner) return c;
            took = true;
            return this.#working();
          },
          this.#lease,
        );
        if (took) return true;
        continue;
      }
      if (cur.owner === this.#owner) return false; // this process is on it (the memory LRU forgot it)
      // Another replica is answering: wait for its lease, then look again (done, renewed, or lapsed).
      await sleep(Math.max(50, cur.until - this.#now() + 50), stopped);
    }
  }

  #storeError(err: unknown): void {
    if (!this.#storeFailing) this.#onStoreError(err);
    this.#storeFailing = true;
  }

  #working(): ClaimValue {
    return { state: "working", owner: this.#owner, until: this.#now() + this.#lease };
  }

  #renew(id: string): void {
    const store = this.#store;
    if (!store) return;
    const t = setInterval(() => {
      void store.set<ClaimValue>(this.#prefix + id, this.#working(), this.#lease).catch((e: unknown) => this.#storeError(e));
    }, this.#lease / 3);
    t.unref();
    this.#renewals.set(id, t);
  }

  #stopRenewing(id: string): void {
    const t = this.#renewals.get(id);
    if (t) clearInterval(t);
    this.#renewals.delete(id);
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

/** Resolves after `ms`, or at once when `signal` aborts; never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    t.unref();
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
