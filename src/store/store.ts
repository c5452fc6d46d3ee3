import { EventEmitter } from "node:events";
import { accessSync, constants, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Keyv from "keyv";
import { errorLine } from "../core/one-line.ts";

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
  /** Whether the backend answers (for /readyz), naming it (a file or a URL, no password). */
  status?(): { connected: boolean; detail: string };
  /** Emits "down" (with the error) when the backend stops answering and "up" when it answers again. */
  readonly health?: EventEmitter;
}

/** The store could not be opened at start: one line naming the file or URL and what to do. */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

/** A store call the backend did not answer (Redis down): said in chat as one line. */
class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

export interface KeyvStoreOptions {
  /** The backend, for messages: a file or a URL without its password. */
  where?: string;
  /** A call the backend has not answered by then fails (Redis down must not hang an answer). */
  timeoutMs?: number;
  /** While down, the backend is asked this often whether it is back (default 2 s). */
  probeMs?: number;
}

const NAMESPACE = "binderbot";

class KeyvStore implements Store {
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly health = new EventEmitter();
  readonly #where: string;
  readonly #timeoutMs: number | undefined;
  readonly #probeMs: number;
  #down: { since: number; error: string } | null = null;
  #probe: ReturnType<typeof setInterval> | null = null;

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
    opts: KeyvStoreOptions = {},
  ) {
    this.#where = opts.where ?? kind;
    this.#timeoutMs = opts.timeoutMs;
    this.#probeMs = opts.probeMs ?? 2000;
    // A backend that fails must not crash the process; failures surface as rejected calls.
    keyv.on("error", () => {});
  }

  status(): { connected: boolean; detail: string } {
    const down = this.#down;
    return down
      ? { connected: false, detail: `${this.#where} unreachable since ${new Date(down.since).toISOString()}: ${down.error}` }
      : { connected: true, detail: this.#where };
  }

  /** One backend call, failed after timeoutMs; tracks whether the backend is down or back. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const ms = this.#timeoutMs;
    try {
      const result = await (ms === undefined
        ? fn()
        : Promise.race([
            fn(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
            }),
          ]));
      this.#up();
      return result;
    } catch (err) {
      this.#fail(err);
      throw new StoreUnavailableError(`the ${this.kind} store ${this.#where} failed: ${errorLine(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #fail(err: unknown): void {
    if (this.#down) return;
    this.#down = { since: Date.now(), error: errorLine(err) };
    this.health.emit("down", err);
    // Asked again now and then, so readiness recovers by itself even when nobody talks to the bot.
    this.#probe = setInterval(() => void this.#call(() => this.keyv.get("health:probe")).catch(() => {}), this.#probeMs);
    this.#probe.unref();
  }

  #up(): void {
    if (!this.#down) return;
    this.#down = null;
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = null;
    this.health.emit("up");
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.#call(() => this.keyv.get<T>(key))) ?? undefined;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    await this.#call(async () => {
      if ((await this.keyv.set(key, value, ttlMs)) === false) throw new Error(`refused to write ${key}`);
    });
  }

  async delete(key: string): Promise<boolean> {
    return this.#call(() => this.keyv.delete(key));
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
    const setIfAbsent = this.setIfAbsent;
    if (setIfAbsent) {
      const value = await this.#serialized(stored, ttlMs);
      return this.#call(() => setIfAbsent(key, value, ttlMs));
    }
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
    const atomicLease = this.atomicLease;
    if (atomicLease) {
      const value = await this.#serialized(owner, ttlMs);
      return this.#call(() => atomicLease(key, owner, value, ttlMs, false));
    }
    let held = false;
    // {owner, until}: another owner's lease is left exactly as it is (its time runs out on its own).
    await this.update<{ owner: string; until: number }>(key, (cur) => {
      held = cur === undefined || cur.owner === owner || cur.until <= Date.now();
      return held ? { owner, until: Date.now() + ttlMs } : cur;
    });
    return held;
  }

  async release(key: string, owner: string): Promise<void> {
    const atomicLease = this.atomicLease;
    if (atomicLease) {
      await this.#call(() => atomicLease(key, owner, "", 0, true));
      return;
    }
    await this.update<{ owner: string; until: number }>(key, (cur) => (cur?.owner === owner ? undefined : cur));
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
    if (this.#probe) clearInterval(this.#probe);
    await this.keyv.disconnect?.();
  }
}

/** Opens the store a config names: "memory", "sqlite" (a file under dataDir) or a redis:// URL. */
export async function openStore(spec: string, dataDir: string): Promise<Store> {
  if (spec === "memory") return new KeyvStore("memory", new Keyv({ store: new Map(), namespace: NAMESPACE }));
  if (spec === "sqlite") {
    const dir = resolve(dataDir);
    writableDir(dir);
    const file = join(dir, "binderbot.sqlite");
    const { default: KeyvSqlite } = await import("@keyv/sqlite");
    const backend = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5000 });
    const keyv = new Keyv({ store: backend, namespace: NAMESPACE, throwOnErrors: true });
    const store = new KeyvStore("sqlite", keyv, undefined, undefined, { where: file });
    try {
      // sqlite opens lazily: write and read once now, so a broken file is a start-up error, not a failed answer.
      await store.set("health:probe", 1);
      await store.get("health:probe");
    } catch (err) {
      await store.close().catch(() => {});
      throw new StoreOpenError(
        `cannot use the sqlite store ${file}: ${sqliteReason(err)}. Move the file aside (the bot starts with empty state) or restore it from a backup.`,
      );
    }
    return store;
  }
  if (/^rediss?:\/\//.test(spec)) {
    const { default: KeyvRedis } = await import("@keyv/redis");
    const where = redactUrl(spec);
    // Never connected → give up after a few tries (a wrong URL is a startup error); once connected,
    // keep reconnecting with a capped backoff so a Redis restart is survived. While disconnected,
    // commands fail at once: no offline queue that grows and answers minutes later.
    let connected = false;
    const backend = new KeyvRedis(
      {
        url: spec,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: 5000,
          reconnectStrategy: (retries: number) =>
            !connected && retries >= 2 ? new Error(`cannot connect to ${where}`) : Math.min(100 * 2 ** retries, 2000),
        },
      },
      { throwOnConnectError: true, throwOnErrors: true },
    );
    backend.on("connect", () => {
      connected = true;
    });
    const store = new KeyvStore(
      "redis",
      new Keyv({ store: backend, namespace: NAMESPACE, useKeyPrefix: false, throwOnErrors: true }),
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
      { where, timeoutMs: 1500 },
    );
    try {
      await backend.getClient(); // connect now: a wrong URL is a startup error, not a silent loss later
    } catch (err) {
      await store.close().catch(() => {});
      throw new StoreOpenError(
        `cannot connect to the Redis store ${where}: ${errorLine(err)}. Start Redis there, or fix \`store:\` in the config.`,
      );
    }
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

/** `dir` exists (made when missing) and the bot can write in it; else a StoreOpenError saying so. */
function writableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "EEXIST" ? "it is a file, not a directory" : errorLine(err);
    throw new StoreOpenError(
      `cannot write the data directory ${dir} (dataDir): ${why}. Point \`dataDir\` at a directory the bot can write to.`,
    );
  }
}

function sqliteReason(err: unknown): string {
  const text = errorLine(err);
  if (/NOTADB|not a database|malformed/i.test(text)) return "the file is not a sqlite database or is damaged";
  if (/READONLY|EACCES|permission/i.test(text)) return "the file is not writable";
  return text;
}
