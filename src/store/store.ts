import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Keyv from "keyv";

/**
 * The bot's state (waiters, verdict history, sync tokens, caches) behind a small interface of its
 * own, so the backend can change without touching commands. Backed by keyv: sqlite under dataDir
 * by default, in memory for tests, Redis for several replicas.
 */
export interface Store {
  readonly kind: "memory" | "sqlite" | "redis";
  get<T>(key: string): Promise<T | undefined>;
  /** ttlMs: forget the value after that long. */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /**
   * Read-modify-write one key. Calls for the same key on this process run one after another, so a
   * list kept under one key never loses an element to a concurrent update here.
   */
  update<T>(key: string, fn: (current: T | undefined) => T | undefined, ttlMs?: number): Promise<T | undefined>;
  /**
   * Sets `key` only when it is absent (or expired); true when this call set it. On Redis this is one
   * atomic `SET NX PX`, so of several replicas claiming the same key exactly one wins; on memory and
   * sqlite it is atomic within this process. The value stored is `value` (default: the expiry in ms).
   */
  claim(key: string, ttlMs: number, value?: unknown): Promise<boolean>;
  /**
   * A lease held by `owner`: taken when `key` is absent or expired, renewed (for ttlMs more) when
   * `owner` already holds it; false while another owner holds it. On Redis one atomic script (a
   * `SET NX PX` or, for the holder, a `PX` renewal), so of several replicas exactly one holds it.
   */
  lease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up when `owner` holds it (a clean stop: another replica need not wait it out). */
  release(key: string, owner: string): Promise<void>;
  /** Every key starting with `prefix`, with its value. */
  entries<T>(prefix: string): AsyncGenerator<[string, T]>;
  close(): Promise<void>;
}

const NAMESPACE = "binderbot";

export class KeyvStore implements Store {
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly kind: Store["kind"],
    private readonly keyv: Keyv,
    /** A backend's own atomic set-if-absent (Redis); otherwise claims go through `update`. */
    private readonly setIfAbsent?: (key: string, value: string, ttlMs: number) => Promise<boolean>,
    /** A backend's own atomic lease (Redis); otherwise leases go through `update`. */
    private readonly atomicLease?: (
      key: string,
      owner: string,
      value: string,
      ttlMs: number,
      release: boolean,
    ) => Promise<boolean>,
  ) {
    // A backend that fails must not crash the process; failures surface as rejected calls.
    keyv.on("error", () => {});
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.keyv.get<T>(key)) ?? undefined;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const ok = await this.keyv.set(key, value, ttlMs);
    if (ok === false) throw new Error(`store (${this.kind}) refused to write ${key}`);
  }

  async delete(key: string): Promise<boolean> {
    return this.keyv.delete(key);
  }

  update<T>(key: string, fn: (current: T | undefined) => T | undefined, ttlMs?: number): Promise<T | undefined> {
    const prev = this.#locks.get(key) ?? Promise.resolve();
    const next = prev
      .catch(() => {})
      .then(async () => {
        const value = fn(await this.get<T>(key));
        if (value === undefined) await this.delete(key);
        else await this.set(key, value, ttlMs);
        return value;
      });
    this.#locks.set(key, next);
    void next
      .finally(() => {
        if (this.#locks.get(key) === next) this.#locks.delete(key);
      })
      .catch(() => {});
    return next;
  }

  async claim(key: string, ttlMs: number, value?: unknown): Promise<boolean> {
    const stored = value ?? Date.now() + ttlMs;
    // Stored in keyv's own format, so get() and delete() see the claim like any other value.
    if (this.setIfAbsent) return this.setIfAbsent(key, await this.#serialized(stored, ttlMs), ttlMs);
    let won = false;
    await this.update<unknown>(
      key,
      (cur) => {
        if (cur !== undefined) return cur;
        won = true;
        return stored;
      },
      ttlMs,
    );
    return won;
  }

  async lease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.atomicLease) return this.atomicLease(key, owner, await this.#serialized(owner, ttlMs), ttlMs, false);
    let held = false;
    await this.update<string>(
      key,
      (cur) => {
        held = cur === undefined || cur === owner;
        return held ? owner : cur;
      },
      // keeps the other owner's remaining time only approximately; fine within one process
      ttlMs,
    );
    return held;
  }

  async release(key: string, owner: string): Promise<void> {
    if (this.atomicLease) {
      await this.atomicLease(key, owner, "", 0, true);
      return;
    }
    await this.update<string>(key, (cur) => (cur === owner ? undefined : cur));
  }

  /** A value in keyv's own format, so get() sees it like any other. */
  async #serialized(value: unknown, ttlMs: number): Promise<string> {
    return (await (this.keyv.serialize ?? JSON.stringify)({ value, expires: Date.now() + ttlMs })) as string;
  }

  async *entries<T>(prefix: string): AsyncGenerator<[string, T]> {
    const it = this.keyv.iterator?.(NAMESPACE);
    if (!it) throw new Error(`store (${this.kind}) cannot list keys`);
    for await (const pair of it as AsyncGenerator<[string, T | undefined]>) {
      const [k, v] = pair;
      if (typeof k === "string" && k.startsWith(prefix) && v !== undefined) yield [k, v];
    }
  }

  async close(): Promise<void> {
    await this.keyv.disconnect?.();
  }
}

/** Opens the store a config names: "memory", "sqlite" (a file under dataDir) or a redis:// URL. */
export async function openStore(spec: string, dataDir: string): Promise<Store> {
  if (spec === "memory") return new KeyvStore("memory", new Keyv({ store: new Map(), namespace: NAMESPACE }));
  if (spec === "sqlite") {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    const { default: KeyvSqlite } = await import("@keyv/sqlite");
    const backend = new KeyvSqlite({ uri: `sqlite://${join(dir, "binderbot.sqlite")}`, busyTimeout: 5000 });
    return new KeyvStore("sqlite", new Keyv({ store: backend, namespace: NAMESPACE }));
  }
  if (/^rediss?:\/\//.test(spec)) {
    const { default: KeyvRedis } = await import("@keyv/redis");
    // Never connected → give up after a few tries (a wrong URL is a startup error); once connected,
    // keep reconnecting with a capped backoff so a Redis restart is survived.
    let connected = false;
    const backend = new KeyvRedis(
      {
        url: spec,
        socket: {
          connectTimeout: 5000,
          reconnectStrategy: (retries: number) =>
            !connected && retries >= 2 ? new Error(`cannot connect to ${redactUrl(spec)}`) : Math.min(100 * 2 ** retries, 5000),
        },
      },
      { throwOnConnectError: true, throwOnErrors: true },
    );
    backend.on("connect", () => {
      connected = true;
    });
    const store = new KeyvStore(
      "redis",
      new Keyv({ store: backend, namespace: NAMESPACE, useKeyPrefix: false }),
      async (key, value, ttlMs) => {
        const client = await backend.getClient();
        const set = await client.set(backend.createKeyPrefix(key, backend.namespace), value, { NX: true, PX: ttlMs });
        return set === "OK";
      },
      async (key, owner, value, ttlMs, release) => {
        const client = await backend.getClient();
        const k = backend.createKeyPrefix(key, backend.namespace);
        if (!release && (await client.set(k, value, { NX: true, PX: ttlMs })) === "OK") return true;
        const mine = JSON.stringify({ value: owner }).slice(1, -1); // "value":"<owner>" inside the stored JSON
        const r = await client.eval(release ? RELEASE_LUA : RENEW_LUA, { keys: [k], arguments: [mine, value, String(ttlMs)] });
        return r === 1;
      },
    );
    await backend.getClient(); // connect now: a wrong URL is a startup error, not a silent loss later
    return store;
  }
  throw new Error(`unknown store '${spec}' (expected sqlite, memory or redis://…)`);
}

/** Renews a lease (taken with SET NX PX) when this owner holds it; 1 when renewed. */
const RENEW_LUA = `local v = redis.call('GET', KEYS[1])
if v and string.find(v, ARGV[1], 1, true) then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;
const RELEASE_LUA = `local v = redis.call('GET', KEYS[1])
if v and string.find(v, ARGV[1], 1, true) then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
