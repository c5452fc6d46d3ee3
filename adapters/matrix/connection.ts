import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { ClientEvent, createClient, type MatrixClient, type MatrixEvent, MemoryStore, SyncState } from "matrix-js-sdk";
import type { Logger } from "pino";
import type { AdapterStatus } from "../../src/core/adapter.ts";
import { Backoff, type RetryOptions, sleep as realSleep, type Sleeper } from "../common/backoff.ts";
import { Watchdog } from "../common/watchdog.ts";
import { matrixErrorLine, retryAfter, transient } from "./errors.ts";
import { login, type Session } from "./login.ts";
import type { MatrixAdapterOptions } from "./options.ts";
import { SyncToken } from "./sync-token.ts";

/** What the rest of the adapter (rooms, inbound, outbound) uses of the connection. */
export interface MatrixContext {
  readonly platform: string;
  readonly log: Logger;
  /** The bot's own user id ("" before login). */
  readonly userId: string;
  /** The client for plain requests (joins, lookups, sends); throws before login. */
  api(): MatrixClient;
  /** The current sync client, when there is one (its account data holds m.direct). */
  readonly client: MatrixClient | undefined;
  /** How one request is retried: transient errors only, 429 waits honoured, cancelled by stop. */
  retry(attempts: number): RetryOptions;
}

/** Every event of the current sync client (none from a replaced one, none after stop); `live`: answer it. */
export type EventSink = (ev: MatrixEvent, live: boolean) => void;

interface SyncClient {
  gen: number;
  client: MatrixClient;
  /** Messages are answered only when live: after the first sync, or at once when resuming from a token. */
  live: boolean;
  abandon?: () => void;
}

/**
 * The client lifecycle, owned by the adapter rather than left to the SDK's keep-alive loop: login,
 * a sync client started from the persisted sync token, PREPARED reported as connected, and on any
 * sync failure or watchdog silence the client thrown away and a new one started after a jittered
 * backoff (honouring 429 retry_after_ms).
 */
export class MatrixConnection implements MatrixContext {
  readonly platform: string;
  readonly log: Logger;
  readonly #o: MatrixAdapterOptions;
  readonly #hs: string;
  readonly #onEvent: EventSink;
  readonly #now: () => number;
  readonly #sleep: Sleeper;
  readonly #backoff: Backoff;
  readonly #watchdog: Watchdog;
  readonly #token: SyncToken;
  #session: Session | null = null;
  #conn: SyncClient | null = null;
  #gen = 0;
  #resumed = false;
  #connected = false;
  #lastActivity: number | undefined;
  #detail = "not started";
  #stopping = false;
  #abort = new AbortController();

  constructor(opts: MatrixAdapterOptions & { platform: string }, onEvent: EventSink) {
    this.#o = opts;
    this.platform = opts.platform;
    this.log = opts.log;
    this.#hs = opts.homeserver.replace(/\/+$/, "");
    this.#onEvent = onEvent;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? realSleep;
    this.#backoff = new Backoff({ baseMs: 1000, maxMs: 5 * 60_000, ...opts.backoff });
    this.#token = new SyncToken({ store: opts.store, log: opts.log, platform: opts.platform });
    const poll = opts.pollTimeoutMs ?? 30_000;
    this.#watchdog = new Watchdog({
      timeoutMs: opts.watchdogMs ?? poll + 60_000,
      ...(opts.timers ? { timers: opts.timers } : {}),
      onSilent: (ms) => this.#reconnect(this.#gen, `no response from the homeserver for ${Math.round(ms / 1000)} s`),
      onError: (err) => this.log.error({ err: matrixErrorLine(err) }, "watchdog reconnect failed"),
    });
  }

  get userId(): string {
    return this.#session?.userId ?? "";
  }

  get client(): MatrixClient | undefined {
    return this.#conn?.client;
  }

  /** Whether this start resumes from a persisted sync token. */
  get resumed(): boolean {
    return this.#resumed;
  }

  api(): MatrixClient {
    if (!this.#session) throw new Error(`${this.platform}: not started`);
    return this.#session.api;
  }

  retry(attempts: number): RetryOptions {
    return {
      attempts,
      // Shorter than reconnects, but scaled like them (tests shrink both with the `backoff` option).
      baseMs: Math.min(this.#o.backoff?.baseMs ?? 500, 500),
      maxMs: Math.min(this.#o.backoff?.maxMs ?? 30_000, 30_000),
      retryable: transient,
      retryAfterMs: retryAfter,
      sleep: this.#sleep,
      signal: this.#abort.signal,
      onRetry: (err: unknown, wait: number) =>
        this.log.warn({ err: matrixErrorLine(err), waitMs: wait }, `${this.platform}: retrying`),
    };
  }

  /** An answer in progress: the sync token moves past its event only once it settles. */
  track(answer: Promise<unknown>): void {
    this.#token.track(answer);
  }

  /** Checks the credentials and reads the persisted sync token (the first half of start). */
  async login(): Promise<void> {
    this.#stopping = false;
    this.#abort = new AbortController();
    this.#detail = "logging in";
    this.#session = await login({
      homeserver: this.#hs,
      userId: this.#o.userId,
      accessToken: this.#o.accessToken,
      password: this.#o.password,
      fetchFn: this.#o.fetchFn,
    });
    this.#resumed = (await this.#token.load(this.#session.userId)) !== null;
  }

  /** Starts syncing; resolves at the first completed sync, and from then on keeps the connection up. */
  async open(): Promise<void> {
    this.#detail = "connecting";
    try {
      await this.#connect().catch((err: unknown) => {
        // A sync token the server no longer knows was dropped: one more try, from a fresh sync.
        if (this.#resumed && this.#token.since === null) return this.#connect();
        throw err;
      });
    } catch (err) {
      this.#teardown();
      throw new Error(`could not sync with ${this.#hs}: ${matrixErrorLine(err)}`);
    }
    this.#watchdog.start();
  }

  /** Starts a sync client; resolves at the first completed sync, rejects when it fails before that. */
  #connect(): Promise<void> {
    const gen = ++this.#gen;
    const store = new MemoryStore();
    const resumeFrom = this.#token.since;
    // The SDK asks the store for a saved token before its first /sync: resume from ours.
    store.getSavedSyncToken = () => Promise.resolve(resumeFrom);
    const session = this.#session as Session;
    const client = createClient({
      baseUrl: this.#hs,
      accessToken: session.token,
      userId: session.userId,
      ...(session.deviceId ? { deviceId: session.deviceId } : {}),
      ...(this.#o.fetchFn ? { fetchFn: this.#o.fetchFn } : {}),
      useAuthorizationHeader: true,
      store,
      timelineSupport: false,
    });
    const conn: SyncClient = { gen, client, live: resumeFrom !== null };
    this.#conn = conn;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      // A teardown before the first sync (watchdog, stop) settles this attempt instead of leaving it hanging.
      conn.abandon = () => {
        if (!settled) {
          settled = true;
          reject(new Error("connection attempt abandoned"));
        }
      };
      client.on(ClientEvent.Sync, (state, _prev, data) => {
        if (gen !== this.#gen) return;
        if (state === SyncState.Prepared || state === SyncState.Syncing) {
          this.#heard();
          if (data?.nextSyncToken) this.#token.advance(data.nextSyncToken);
          if (state === SyncState.Prepared) {
            conn.live = true;
            this.#connected = true;
            this.#detail = `syncing as ${session.userId}`;
            this.#backoff.reset();
            if (!settled) {
              settled = true;
              resolve();
            }
          }
        } else if (state === SyncState.Reconnecting || state === SyncState.Error) {
          const err = data?.error;
          if (!settled) {
            settled = true;
            this.#teardown();
            this.#token.refused(resumeFrom, err);
            reject(err ?? new Error(`sync ${state.toLowerCase()}`));
          } else {
            void this.#reconnect(gen, `sync failed: ${matrixErrorLine(err)}`, err);
          }
        }
      });
      client.on(ClientEvent.Event, (ev) => {
        if (conn.gen !== this.#gen || this.#stopping) return;
        this.#onEvent(ev, conn.live);
      });
      client
        .startClient({
          initialSyncLimit: 1,
          pollTimeout: this.#o.pollTimeoutMs ?? 30_000,
          disablePresence: true,
          lazyLoadMembers: false,
          threadSupport: false,
        })
        .catch((err: unknown) => {
          if (!settled) {
            settled = true;
            this.#teardown();
            reject(err);
          }
        });
    });
  }

  #heard(): void {
    this.#lastActivity = this.#now();
    this.#watchdog.heard();
  }

  #teardown(): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#connected = false;
    if (conn) {
      conn.client.removeAllListeners();
      conn.client.stopClient();
      conn.abandon?.();
    }
  }

  /**
   * Throws the current client away and connects again after a backoff. `fromGen` guards against
   * stale triggers: a failure reported by a client that was already replaced does nothing.
   */
  async #reconnect(fromGen: number, why: string, err?: unknown): Promise<void> {
    if (this.#stopping || fromGen !== this.#gen) return;
    this.#teardown();
    this.#o.metrics?.error(this.platform, "reconnect");
    const gen = ++this.#gen; // invalidates anything still in flight for the old client
    const wait = Math.max(this.#backoff.next(), retryAfter(err) ?? 0);
    this.#detail = `reconnecting: ${why}`;
    this.log.warn({ why, waitMs: wait, attempt: this.#backoff.attempt }, `${this.platform}: reconnecting`);
    try {
      await this.#sleep(wait, this.#abort.signal);
    } catch {
      return; // stopped
    }
    if (this.#stopping || gen !== this.#gen) return;
    const attempt = this.#gen + 1; // the generation #connect takes; a later trigger supersedes it
    try {
      await this.#connect();
      this.log.info({ resumedFrom: this.#token.since !== null }, `${this.platform}: reconnected`);
    } catch (e) {
      await this.#reconnect(attempt, `connect failed: ${matrixErrorLine(e)}`, e);
    }
  }

  /** Stops syncing and retrying, then waits for the answers in progress and their sync token. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort(new Error("stopped"));
    this.#watchdog.stop();
    this.#gen++;
    this.#teardown();
    await this.#token.drain();
    this.#session?.api.stopClient();
    this.#detail = "stopped";
  }

  status(): AdapterStatus {
    return {
      connected: this.#connected,
      ...(this.#lastActivity !== undefined ? { lastActivity: this.#lastActivity } : {}),
      detail: this.#detail,
    };
  }
}
