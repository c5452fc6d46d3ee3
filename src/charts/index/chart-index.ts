import { readFile, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { timedFetch } from "../../source-timing.ts";
import type { Store } from "../../store/store.ts";
import { IndexFormatError, parseIndex, type RawIndex } from "./parse.ts";
import { type IndexSnapshot, ParsedIndex, snapshot } from "./snapshot.ts";

export type { IndexEntry, IndexSnapshot } from "./snapshot.ts";

export interface ChartIndexOptions {
  /** http(s) URL, `file:` URL, or a plain path to an index.yaml. */
  url: string;
  log: Logger;
  /** Where the last good body is kept, so a restart with the index unreachable still answers. */
  store?: Store;
  now?: () => Date;
  fetch?: typeof fetch;
  /** Per-request timeout; 20 s by default. */
  timeoutMs?: number;
}

const DEFAULT_MAX_AGE_MS = 60_000;

/** What is kept in the store, under `chart-index:<url>`. */
interface Persisted {
  body: string;
  etag: string | null;
  lastModified: string | null;
  /** ISO time the body was last confirmed. */
  fetchedAt: string;
}

/** The last confirmation of a persisted body, under `chart-index:<url>:seen`. */
interface Seen {
  fetchedAt: string;
  /** Which body it confirms (length + a cheap checksum). */
  digest: string;
}

function bodyDigest(body: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i += 97) h = Math.imul(h ^ body.charCodeAt(i), 0x01000193) >>> 0;
  return `${body.length}:${h.toString(16)}`;
}

/** A readable name for the source in messages and logs: no credentials, no query string. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol === "file:") return fileURLToPath(u);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return url;
  }
}

function isHttp(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function localPath(url: string): string {
  if (/^file:/i.test(url)) return fileURLToPath(url);
  return isAbsolute(url) ? url : resolve(url);
}

function errorText(e: unknown): string {
  if (e instanceof IndexFormatError) return `unreadable index: ${e.message}`;
  if (e instanceof Error) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return "timed out";
    const cause = (e as { cause?: unknown }).cause;
    const code = cause && typeof cause === "object" && "code" in cause ? String((cause as { code: unknown }).code) : "";
    if (e.message === "fetch failed" && cause instanceof Error) return code ? `${code}: ${cause.message}` : cause.message;
    return e.message;
  }
  return String(e);
}

/**
 * A Helm repository index (e.g. https://jupyterhub.github.io/helm-chart/index.yaml), fetched with
 * conditional requests and parsed once per change into lookups by version and by SHA prefix.
 */
export class ChartIndex {
  /** How many times a body was parsed (an unchanged poll must not add to it). */
  parseCount = 0;

  readonly #url: string;
  readonly #log: Logger;
  readonly #store: Store | undefined;
  readonly #now: () => Date;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #storeKey: string;

  #parsed: ParsedIndex | null = null;
  #body: string | null = null;
  #etag: string | null = null;
  #lastModified: string | null = null;
  #fetchedAt: Date | null = null;
  #error: string | null = null;
  #failedAt: Date | null = null;
  #loading: Promise<void> | null = null;
  #inflight: Promise<{ changed: boolean; status: number }> | null = null;
  #pending: Promise<void> = Promise.resolve();

  constructor(opts: ChartIndexOptions) {
    this.#url = opts.url;
    this.#log = opts.log.child({ component: "chart-index", index: displayUrl(opts.url) });
    this.#store = opts.store;
    this.#now = opts.now ?? (() => new Date());
    this.#fetch = timedFetch("chart-index", opts.fetch ?? fetch);
    this.#timeoutMs = opts.timeoutMs ?? 20_000;
    this.#storeKey = `chart-index:${opts.url}`;
  }

  /** Why the last refresh failed (null after a good one): "no such file …", "HTTP 404 Not Found". */
  get lastError(): string | null {
    return this.#error;
  }

  /** The source, as shown to people. */
  get source(): string {
    return displayUrl(this.#url);
  }

  /**
   * The index, refreshed first when the copy is older than `maxAgeMs` (60 s by default; 0 forces a
   * conditional request). When the refresh fails the last good copy is returned with `stale: true`;
   * throws only when there never was a good copy (not even a persisted one).
   */
  async get(opts: { maxAgeMs?: number } = {}): Promise<IndexSnapshot> {
    const maxAge = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    await this.#loadPersisted();
    const now = this.#now().getTime();
    const last = Math.max(
      this.#fetchedAt?.getTime() ?? Number.NEGATIVE_INFINITY,
      this.#failedAt?.getTime() ?? Number.NEGATIVE_INFINITY,
    );
    if (!this.#parsed || now - last >= maxAge || maxAge <= 0) {
      try {
        await this.refresh();
      } catch {
        // recorded in #error; answered below
      }
    }
    if (!this.#parsed || !this.#fetchedAt) {
      throw new Error(`chart index ${this.source} unavailable: ${this.#error ?? "never fetched"}`);
    }
    return snapshot(this.#parsed, this.#fetchedAt, this.#error !== null, this.#error);
  }

  /**
   * One conditional request (If-None-Match / If-Modified-Since). 304, or a 200 with the same body,
   * costs no parse. Concurrent calls share one request. Rejects on failure (the last good copy stays).
   */
  refresh(): Promise<{ changed: boolean; status: number }> {
    if (!this.#inflight) {
      this.#inflight = this.#refresh().finally(() => {
        this.#inflight = null;
      });
    }
    return this.#inflight;
  }

  async #refresh(): Promise<{ changed: boolean; status: number }> {
    await this.#loadPersisted();
    try {
      const r = isHttp(this.#url) ? await this.#fetchHttp() : await this.#readFile();
      const at = this.#now();
      if (r.body === null || (r.body === this.#body && this.#parsed)) {
        this.#fetchedAt = at;
        this.#error = null;
        this.#failedAt = null;
        if (r.etag) this.#etag = r.etag;
        if (r.lastModified) this.#lastModified = r.lastModified;
        this.#log.debug({ status: r.status }, "chart index unchanged");
        this.#persist(false);
        return { changed: false, status: r.status };
      }
      const t0 = performance.now();
      const index = this.#adopt({ body: r.body, etag: r.etag, lastModified: r.lastModified, fetchedAt: at });
      this.#error = null;
      this.#failedAt = null;
      this.#log.info(
        { status: r.status, bytes: r.body.length, ms: Math.round(performance.now() - t0), charts: index.size },
        "chart index parsed",
      );
      this.#persist(true);
      return { changed: true, status: r.status };
    } catch (e) {
      this.#error = errorText(e);
      this.#failedAt = this.#now();
      this.#log.warn({ err: this.#error, haveCopy: this.#parsed !== null }, "chart index refresh failed");
      throw new Error(`chart index ${this.source}: ${this.#error}`);
    }
  }

  async #fetchHttp(): Promise<{ status: number; body: string | null; etag: string | null; lastModified: string | null }> {
    const headers: Record<string, string> = { accept: "application/x-yaml, text/yaml, */*" };
    if (this.#parsed) {
      if (this.#etag) headers["if-none-match"] = this.#etag;
      if (this.#lastModified) headers["if-modified-since"] = this.#lastModified;
    }
    const res = await this.#fetch(this.#url, { headers, signal: AbortSignal.timeout(this.#timeoutMs), redirect: "follow" });
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 304, body: null, etag: res.headers.get("etag"), lastModified: res.headers.get("last-modified") };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    }
    const body = await res.text();
    return { status: 200, body, etag: res.headers.get("etag"), lastModified: res.headers.get("last-modified") };
  }

  /** A local file: size + mtime play the part of the ETag, so an unchanged file is not read again. */
  async #readFile(): Promise<{ status: number; body: string | null; etag: string | null; lastModified: string | null }> {
    const p = localPath(this.#url);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === "ENOENT" ? `no such file ${p}` : `cannot read ${p} (${code ?? String(e)})`);
    }
    const tag = `"${st.size}-${st.mtimeMs}"`;
    if (this.#parsed && tag === this.#etag) return { status: 304, body: null, etag: tag, lastModified: null };
    const body = await readFile(p, "utf8");
    return { status: 200, body, etag: tag, lastModified: null };
  }

  /** Loads the persisted last good copy once, before the first request (concurrent callers share it). */
  #loadPersisted(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<void> {
    if (!this.#store || this.#parsed) return;
    let p: Persisted | undefined;
    try {
      p = await this.#store.get<Persisted>(this.#storeKey);
      if (p && typeof p.body === "string") {
        const seen = await this.#store.get<Seen>(`${this.#storeKey}:seen`);
        if (seen && seen.digest === bodyDigest(p.body) && seen.fetchedAt > p.fetchedAt) p = { ...p, fetchedAt: seen.fetchedAt };
      }
    } catch (e) {
      this.#log.warn({ err: errorText(e) }, "cannot read the persisted chart index");
      return;
    }
    if (!p || typeof p.body !== "string") return;
    try {
      this.#adopt({ body: p.body, etag: p.etag, lastModified: p.lastModified, fetchedAt: new Date(p.fetchedAt) });
      this.#log.info({ fetchedAt: p.fetchedAt }, "chart index loaded from the store");
    } catch (e) {
      this.#log.warn({ err: errorText(e) }, "persisted chart index unreadable; ignored");
    }
  }

  /** Parses a body (fetched or persisted) and makes it the current copy; throws when it is not an index. */
  #adopt(c: { body: string; etag: string | null; lastModified: string | null; fetchedAt: Date }): RawIndex {
    const index = parseIndex(c.body);
    this.parseCount++;
    this.#parsed = new ParsedIndex(index);
    this.#body = c.body;
    this.#etag = c.etag;
    this.#lastModified = c.lastModified;
    this.#fetchedAt = c.fetchedAt;
    return index;
  }

  /**
   * Saves the body when it changed; otherwise only the confirmation time, under a small key of its
   * own, so polling an unchanged index never rewrites 1.75 MB. Failures are logged, never thrown.
   */
  #persist(bodyChanged: boolean): void {
    if (!this.#store || this.#body === null || !this.#fetchedAt) return;
    const store = this.#store;
    const fetchedAt = this.#fetchedAt.toISOString();
    const value: Persisted = { body: this.#body, etag: this.#etag, lastModified: this.#lastModified, fetchedAt };
    const seen: Seen = { fetchedAt, digest: bodyDigest(this.#body) };
    this.#pending = this.#pending.then(async () => {
      try {
        if (bodyChanged) await store.set(this.#storeKey, value);
        await store.set(`${this.#storeKey}:seen`, seen);
      } catch (e) {
        this.#log.warn({ err: errorText(e) }, "cannot persist the chart index");
      }
    });
  }

  /** Waits for pending store writes (tests; shutdown). */
  async flush(): Promise<void> {
    await this.#inflight?.catch(() => {});
    await this.#pending;
  }
}
