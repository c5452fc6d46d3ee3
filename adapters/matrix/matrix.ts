// Must come first: quiets the SDK's global logger before SDK modules bind it.
import "./sdk-logger.ts";

import {
  ClientEvent,
  createClient,
  type MatrixClient,
  MatrixError,
  type MatrixEvent,
  MemoryStore,
  Method,
  SyncState,
} from "matrix-js-sdk";
import type { Logger } from "pino";
import type { Config } from "../../src/config/schema.ts";
import type { Adapter, AdapterStatus, MessageHandler } from "../../src/core/adapter.ts";
import type { Message } from "../../src/core/message.ts";
import { renderMarkdown } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";
import type { Metrics } from "../../src/metrics.ts";
import type { Store } from "../../src/store/store.ts";
import { Backoff, type BackoffOptions, sleep as realSleep, retry, type Sleeper } from "../common/backoff.ts";
import { Dedupe } from "../common/dedupe.ts";
import { Watchdog, type WatchdogTimers } from "../common/watchdog.ts";
import { noticeContent } from "./render.ts";
import { sdkSinks } from "./sdk-logger.ts";

export interface MatrixAdapterOptions {
  /** "matrix", or "gitter" for the Gitter profile. */
  platform?: string;
  homeserver: string;
  /** Expected user id; found with whoami when absent. */
  userId?: string;
  accessToken?: string;
  password?: string;
  /** Room ids (`!id:server`) or aliases (`#alias:server`) to join at start. */
  rooms?: string[];
  /** Accept invitations to other rooms. */
  autojoin?: boolean;
  /** Sync token and dedupe ids live here. */
  store: Store;
  log: Logger;
  /** Server-side long-poll timeout of /sync (ms). Default 30000. */
  pollTimeoutMs?: number;
  /** Silence longer than this (ms) means the connection is dead. Default pollTimeout + 60000. */
  watchdogMs?: number;
  /** Timers for the watchdog (tests). */
  timers?: WatchdogTimers;
  /** Reconnect backoff. Default 1 s doubling to 5 min, full jitter. */
  backoff?: BackoffOptions;
  /** Sleep used between reconnects and send retries (tests may shorten it). */
  sleep?: Sleeper;
  /** Messages older than this (ms) when first seen after a restart are not answered. Default 15 min. */
  maxCatchUpAgeMs?: number;
  /** The same text is not posted twice in a row to a room within this window (ms). Default 30 s. */
  repeatWindowMs?: number;
  /** Attempts per send before giving up (429s and network errors are retried). Default 5. */
  sendAttempts?: number;
  now?: () => number;
  fetchFn?: typeof fetch;
  /** Counts reconnects and send failures (binderbot_errors_total). */
  metrics?: Metrics;
}

export type MatrixConfig = NonNullable<Config["adapters"]["matrix"]>;

/** Adapter options from the `adapters.matrix` config section. */
export function matrixOptions(
  cfg: MatrixConfig,
  deps: { store: Store; log: Logger; metrics?: Metrics | undefined },
): MatrixAdapterOptions {
  return {
    platform: "matrix",
    homeserver: cfg.homeserver,
    userId: cfg.userId,
    ...(cfg.accessToken ? { accessToken: cfg.accessToken } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
    rooms: cfg.rooms,
    autojoin: cfg.autojoin,
    store: deps.store,
    log: deps.log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
}

interface Connection {
  gen: number;
  client: MatrixClient;
  /** Messages are answered only when live: after the first sync, or at once when resuming from a token. */
  live: boolean;
  abandon?: () => void;
}

const SYNC_KEY = (platform: string, userId: string) => `${platform}:sync:${userId}`;

/** The message of an SDK/HTTP error in one line, without any token. */
function oneLine(err: unknown): string {
  if (err instanceof MatrixError)
    return `${err.errcode ?? "error"} ${err.httpStatus ?? ""}: ${err.data?.error ?? err.message}`.trim();
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split("\n")[0] ?? "").replace(/access_token=[^&\s]+/g, "access_token=***");
}

function retryAfter(err: unknown): number | undefined {
  if (err instanceof MatrixError && err.isRateLimitError()) {
    try {
      return err.getRetryAfterMs() ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Errors worth retrying: rate limits, server errors, and the network. Not 4xx (bad token, forbidden). */
function transient(err: unknown): boolean {
  if (err instanceof MatrixError) return err.isRateLimitError() || (err.httpStatus ?? 500) >= 500;
  return true;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Matrix through matrix-js-sdk's sync loop. The adapter owns the connection: it starts a client from
 * the persisted sync token, reports PREPARED as connected, and on any sync failure or watchdog silence
 * throws the client away and starts a new one after a jittered backoff (honouring 429 retry_after_ms),
 * rather than leaving the SDK's own keep-alive loop in charge. Sends go through the SDK's HTTP layer
 * with a stable transaction id, so a retried send is never posted twice.
 */
export class MatrixAdapter implements Adapter {
  readonly platform: string;
  readonly #o: MatrixAdapterOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #sleep: Sleeper;
  readonly #backoff: Backoff;
  readonly #dedupe: Dedupe;
  readonly #watchdog: Watchdog;
  #handler: MessageHandler | null = null;
  #api: MatrixClient | null = null;
  #conn: Connection | null = null;
  #gen = 0;
  #userId = "";
  #token = "";
  #deviceId: string | undefined;
  /** Latest sync token seen (used on reconnect) and the one last persisted. */
  #since: string | null = null;
  #persistChain: Promise<void> = Promise.resolve();
  readonly #inflight = new Set<Promise<void>>();
  #connected = false;
  #lastActivity: number | undefined;
  #detail = "not started";
  #stopping = false;
  #abort = new AbortController();
  readonly #rooms = new Set<string>();
  readonly #aliasCache = new Map<string, string>();
  readonly #memberCounts = new Map<string, number>();
  readonly #directRooms = new Set<string>();
  readonly #joining = new Set<string>();
  readonly #lastSent = new Map<string, { text: string; at: number }>();
  #txnSeq = 0;

  constructor(opts: MatrixAdapterOptions) {
    this.#o = opts;
    this.platform = opts.platform ?? "matrix";
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? realSleep;
    this.#backoff = new Backoff({ baseMs: 1000, maxMs: 5 * 60_000, ...opts.backoff });
    this.#dedupe = new Dedupe({
      store: opts.store,
      prefix: `dedupe:${this.platform}:`,
      ttlMs: 24 * 60 * 60 * 1000,
      now: this.#now,
      onStoreError: (err) => this.#log.warn({ err: oneLine(err) }, "dedupe store failed; continuing in memory"),
    });
    const poll = opts.pollTimeoutMs ?? 30_000;
    this.#watchdog = new Watchdog({
      timeoutMs: opts.watchdogMs ?? poll + 60_000,
      ...(opts.timers ? { timers: opts.timers } : {}),
      onSilent: (ms) => this.#reconnect(this.#gen, `no response from the homeserver for ${Math.round(ms / 1000)} s`),
      onError: (err) => this.#log.error({ err: oneLine(err) }, "watchdog reconnect failed"),
    });
    if (!opts.accessToken && !opts.password)
      throw new Error(`${this.platform}: set accessToken (or password) for the bot account`);
    if (!opts.accessToken && opts.password && !opts.userId) throw new Error(`${this.platform}: password login needs userId`);
  }

  /** The bot's own user id (after start). */
  get userId(): string {
    return this.#userId;
  }

  /** Room ids joined at start (configured rooms, aliases resolved). */
  get rooms(): string[] {
    return [...this.#rooms];
  }

  async start(handler: MessageHandler): Promise<void> {
    this.#handler = handler;
    this.#stopping = false;
    sdkSinks.add(this.#log);
    this.#abort = new AbortController();
    const hs = this.#o.homeserver.replace(/\/+$/, "");
    this.#detail = "logging in";
    await this.#authenticate(hs);
    this.#since = (await this.#o.store.get<string>(SYNC_KEY(this.platform, this.#userId))) ?? null;
    const resumed = this.#since !== null;
    for (const room of this.#o.rooms ?? []) {
      try {
        const id = await this.#joinConfigured(room);
        this.#rooms.add(id);
      } catch (err) {
        this.#log.error({ room, err: oneLine(err) }, `${this.platform}: could not join a configured room`);
      }
    }
    this.#detail = "connecting";
    try {
      await this.#connect().catch((err: unknown) => {
        // A sync token the server no longer knows was dropped: one more try, from a fresh sync.
        if (resumed && this.#since === null) return this.#connect();
        throw err;
      });
    } catch (err) {
      this.#teardown();
      throw new Error(`could not sync with ${hs}: ${oneLine(err)}`);
    }
    this.#watchdog.start();
    this.#log.info({ userId: this.#userId, rooms: this.rooms, resumed }, `${this.platform} connected`);
  }

  async #authenticate(hs: string): Promise<void> {
    const base = { baseUrl: hs, ...(this.#o.fetchFn ? { fetchFn: this.#o.fetchFn } : {}), useAuthorizationHeader: true };
    if (this.#o.accessToken) {
      this.#token = this.#o.accessToken;
    } else {
      const anon = createClient(base);
      try {
        const res = await anon.loginRequest({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: this.#o.userId as string },
          password: this.#o.password as string,
          initial_device_display_name: "binderbot",
        });
        this.#token = res.access_token;
        this.#deviceId = res.device_id;
      } catch (err) {
        throw new Error(`password login as ${this.#o.userId} at ${hs} failed: ${oneLine(err)}`);
      }
    }
    this.#api = createClient({ ...base, accessToken: this.#token });
    let who: { user_id: string; device_id?: string };
    try {
      who = await this.#api.whoami();
    } catch (err) {
      const why =
        err instanceof MatrixError && (err.httpStatus === 401 || err.errcode === "M_UNKNOWN_TOKEN")
          ? "the access token was refused (M_UNKNOWN_TOKEN): make a new one for the bot account"
          : oneLine(err);
      throw new Error(`${hs} did not accept the bot's credentials: ${why}`);
    }
    if (this.#o.userId && who.user_id !== this.#o.userId) {
      throw new Error(`the token belongs to ${who.user_id}, but userId is ${this.#o.userId}`);
    }
    this.#userId = who.user_id;
    this.#deviceId ??= who.device_id;
    this.#api = createClient({
      ...base,
      accessToken: this.#token,
      userId: this.#userId,
      ...(this.#deviceId ? { deviceId: this.#deviceId } : {}),
    });
  }

  /** Resolves an alias through the directory (cached); room ids pass through. */
  async resolveRoom(room: string): Promise<string> {
    if (!room.startsWith("#")) return room;
    const cached = this.#aliasCache.get(room);
    if (cached) return cached;
    const api = this.#requireApi();
    const res = await retry(() => api.getRoomIdForAlias(room), this.#retryOpts(3));
    this.#aliasCache.set(room, res.room_id);
    return res.room_id;
  }

  async #joinConfigured(room: string): Promise<string> {
    const id = await this.resolveRoom(room);
    const api = this.#requireApi();
    await retry(() => api.joinRoom(id), this.#retryOpts(3));
    this.#log.info({ room, roomId: id }, `${this.platform}: joined`);
    return id;
  }

  #retryOpts(attempts: number) {
    return {
      attempts,
      // Shorter than reconnects, but scaled like them (tests shrink both with the `backoff` option).
      baseMs: Math.min(this.#o.backoff?.baseMs ?? 500, 500),
      maxMs: Math.min(this.#o.backoff?.maxMs ?? 30_000, 30_000),
      retryable: transient,
      retryAfterMs: retryAfter,
      sleep: this.#sleep,
      signal: this.#abort.signal,
      onRetry: (err: unknown, wait: number) => this.#log.warn({ err: oneLine(err), waitMs: wait }, `${this.platform}: retrying`),
    };
  }

  #requireApi(): MatrixClient {
    if (!this.#api) throw new Error(`${this.platform}: not started`);
    return this.#api;
  }

  /** Starts a sync client; resolves at the first completed sync, rejects when it fails before that. */
  #connect(): Promise<void> {
    const gen = ++this.#gen;
    const store = new MemoryStore();
    const resumeFrom = this.#since;
    // The SDK asks the store for a saved token before its first /sync: resume from ours.
    store.getSavedSyncToken = () => Promise.resolve(resumeFrom);
    const client = createClient({
      baseUrl: this.#o.homeserver.replace(/\/+$/, ""),
      accessToken: this.#token,
      userId: this.#userId,
      ...(this.#deviceId ? { deviceId: this.#deviceId } : {}),
      ...(this.#o.fetchFn ? { fetchFn: this.#o.fetchFn } : {}),
      useAuthorizationHeader: true,
      store,
      timelineSupport: false,
    });
    const conn: Connection = { gen, client, live: resumeFrom !== null };
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
          if (data?.nextSyncToken) this.#advance(data.nextSyncToken);
          if (state === SyncState.Prepared) {
            conn.live = true;
            this.#connected = true;
            this.#detail = `syncing as ${this.#userId}`;
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
            this.#forgetRejectedToken(resumeFrom, err);
            reject(err ?? new Error(`sync ${state.toLowerCase()}`));
          } else {
            void this.#reconnect(gen, `sync failed: ${oneLine(err)}`, err);
          }
        }
      });
      client.on(ClientEvent.Event, (ev) => this.#onEvent(conn, ev));
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

  /**
   * A homeserver that refuses our since token with a 4xx (a reset database, a token from another
   * server) would refuse it forever: forget it, so the next attempt starts with a fresh sync. What was
   * said in between is then not answered, which is logged.
   */
  #forgetRejectedToken(token: string | null, err: unknown): void {
    if (token === null || !(err instanceof MatrixError)) return;
    const status = err.httpStatus ?? 0;
    if (status < 400 || status >= 500 || status === 429 || status === 401 || status === 403) return;
    this.#log.warn({ err: oneLine(err) }, `${this.platform}: the homeserver refused the saved sync token; starting a fresh sync`);
    this.#since = null;
    void this.#o.store.delete(SYNC_KEY(this.platform, this.#userId)).catch(() => {});
  }

  #heard(): void {
    this.#lastActivity = this.#now();
    this.#watchdog.heard();
  }

  /** A sync completed with token T: persist it once every message of that batch has been answered. */
  #advance(token: string): void {
    this.#since = token;
    const pending = [...this.#inflight];
    const key = SYNC_KEY(this.platform, this.#userId);
    this.#persistChain = this.#persistChain
      .then(() => Promise.allSettled(pending))
      .then(() => this.#o.store.set(key, token))
      .catch((err: unknown) => this.#log.warn({ err: oneLine(err) }, `${this.platform}: could not persist the sync token`));
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
    this.#log.warn({ why, waitMs: wait, attempt: this.#backoff.attempt }, `${this.platform}: reconnecting`);
    try {
      await this.#sleep(wait, this.#abort.signal);
    } catch {
      return; // stopped
    }
    if (this.#stopping || gen !== this.#gen) return;
    const attempt = this.#gen + 1; // the generation #connect takes; a later trigger supersedes it
    try {
      await this.#connect();
      this.#log.info({ resumedFrom: this.#since !== null }, `${this.platform}: reconnected`);
    } catch (e) {
      await this.#reconnect(attempt, `connect failed: ${oneLine(e)}`, e);
    }
  }

  #onEvent(conn: Connection, ev: MatrixEvent): void {
    if (conn.gen !== this.#gen || this.#stopping) return;
    const type = ev.getType();
    const roomId = ev.getRoomId();
    if (!roomId) return;
    if (type === "m.room.member") {
      this.#memberCounts.delete(roomId);
      if (ev.getStateKey() === this.#userId && ev.getContent().membership === "invite") this.#onInvite(roomId, ev);
      return;
    }
    if (type !== "m.room.message" || ev.isState() || !conn.live) return;
    const sender = ev.getSender();
    const eventId = ev.getId();
    if (!sender || !eventId || sender === this.#userId) return; // never answer ourselves
    const content = ev.getContent();
    // Only what people type: notices are what bots say (answering them makes bot loops); edits are not new questions.
    if (content.msgtype !== "m.text" || typeof content.body !== "string") return;
    const rel = content["m.relates_to"] as { rel_type?: string; event_id?: string } | undefined;
    if (rel?.rel_type === "m.replace") return;
    const age = this.#now() - ev.getTs();
    if (age > (this.#o.maxCatchUpAgeMs ?? 15 * 60_000)) {
      this.#log.info({ eventId, roomId, ageMs: age }, `${this.platform}: not answering a message this old`);
      return;
    }
    const p = this.#answer(roomId, eventId, sender, content, rel).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  #onInvite(roomId: string, ev: MatrixEvent): void {
    if (ev.getContent().is_direct) this.#directRooms.add(roomId);
    const inviter = ev.getSender();
    if (!this.#o.autojoin) {
      this.#log.info({ roomId, inviter }, `${this.platform}: invited, but autojoin is off; not joining`);
      return;
    }
    if (this.#joining.has(roomId)) return;
    this.#joining.add(roomId);
    const api = this.#requireApi();
    retry(() => api.joinRoom(roomId), this.#retryOpts(3))
      .then(() => this.#log.info({ roomId, inviter }, `${this.platform}: joined on invitation`))
      .catch((err: unknown) => this.#log.warn({ roomId, err: oneLine(err) }, `${this.platform}: could not join on invitation`))
      .finally(() => this.#joining.delete(roomId));
  }

  async #answer(
    roomId: string,
    eventId: string,
    sender: string,
    content: Record<string, unknown>,
    rel: { rel_type?: string; event_id?: string } | undefined,
  ): Promise<void> {
    try {
      if (!(await this.#dedupe.claim(eventId))) {
        this.#log.debug({ eventId }, `${this.platform}: duplicate event dropped`);
        return;
      }
      const mentioned = this.#mentionsMe(content);
      const text = mentioned ? this.#stripMention(content) : (content.body as string);
      const addressed = mentioned || (await this.#isDirect(roomId));
      const thread = rel?.rel_type === "m.thread" && rel.event_id ? rel.event_id : undefined;
      const msg: Message = {
        platform: this.platform,
        room: roomId,
        userId: sender,
        text,
        eventId,
        ...(thread ? { thread } : {}),
        ...(addressed ? { addressed: true } : {}),
      };
      const handler = this.#handler;
      if (!handler) return;
      const reply = await handler(msg);
      if (!reply) return;
      await this.#post(roomId, reply, {
        inReplyTo: eventId,
        ...((reply.thread ?? thread) ? { thread: reply.thread ?? thread } : {}),
      });
    } catch (err) {
      this.#o.metrics?.error(this.platform, "send");
      this.#log.error({ eventId, roomId, err: oneLine(err) }, `${this.platform}: could not answer`);
    }
  }

  #mentionsMe(content: Record<string, unknown>): boolean {
    const mentions = content["m.mentions"] as { user_ids?: unknown } | undefined;
    if (Array.isArray(mentions?.user_ids) && mentions.user_ids.includes(this.#userId)) return true;
    const html = typeof content.formatted_body === "string" ? content.formatted_body : "";
    return html.includes(`matrix.to/#/${this.#userId}`) || html.includes(`matrix.to/#/${encodeURIComponent(this.#userId)}`);
  }

  /** "BinderBot: help" (a pill rendered to text) → "help". The pill's text comes from formatted_body. */
  #stripMention(content: Record<string, unknown>): string {
    const body = (content.body as string).trim();
    const names = [this.#userId, this.#userId.slice(1).split(":")[0] ?? ""];
    const html = typeof content.formatted_body === "string" ? content.formatted_body : "";
    const pill = new RegExp(
      `<a[^>]+matrix\\.to/#/(?:${escapeRe(this.#userId)}|${escapeRe(encodeURIComponent(this.#userId))})[^>]*>([^<]*)</a>`,
    ).exec(html);
    if (pill?.[1])
      names.unshift(
        pill[1]
          .replace(/&amp;/g, "&")
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&quot;/g, '"'),
      );
    for (const n of names.filter(Boolean)) {
      const m = new RegExp(`^@?${escapeRe(n.replace(/^@/, ""))}\\s*[:,]?\\s+`, "i").exec(body);
      if (m) return body.slice(m[0].length);
    }
    return body;
  }

  /** A direct chat: marked so (m.direct, is_direct on the invite), or just the bot and one person. */
  async #isDirect(roomId: string): Promise<boolean> {
    if (this.#directRooms.has(roomId)) return true;
    const direct = this.#conn?.client.getAccountData("m.direct" as never)?.getContent() as Record<string, string[]> | undefined;
    if (direct && Object.values(direct).some((rooms) => Array.isArray(rooms) && rooms.includes(roomId))) return true;
    let count = this.#memberCounts.get(roomId);
    if (count === undefined) {
      try {
        const res = await this.#requireApi().getJoinedRoomMembers(roomId);
        count = Object.keys(res.joined ?? {}).length;
        this.#memberCounts.set(roomId, count);
      } catch {
        return false;
      }
    }
    return count === 2;
  }

  async send(room: string, reply: Reply): Promise<void> {
    const roomId = await this.resolveRoom(room);
    await this.#post(roomId, reply, reply.thread ? { thread: reply.thread } : {});
  }

  async #post(roomId: string, reply: Reply, rel: { inReplyTo?: string; thread?: string }): Promise<void> {
    const content = noticeContent(reply, rel);
    const text = renderMarkdown(reply);
    const last = this.#lastSent.get(roomId);
    const now = this.#now();
    if (last && last.text === text && now - last.at < (this.#o.repeatWindowMs ?? 30_000)) {
      this.#log.info({ roomId }, `${this.platform}: not posting the same text twice in a row`);
      return;
    }
    this.#lastSent.set(roomId, { text, at: now });
    const api = this.#requireApi();
    // One transaction id for every attempt: the homeserver deduplicates a retried PUT.
    const txnId = `bb${now.toString(36)}.${++this.#txnSeq}`;
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    try {
      await retry(() => api.http.authedRequest(Method.Put, path, undefined, content), this.#retryOpts(this.#o.sendAttempts ?? 5));
    } catch (err) {
      this.#lastSent.delete(roomId);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort(new Error("stopped"));
    this.#watchdog.stop();
    this.#gen++;
    this.#teardown();
    await Promise.allSettled([...this.#inflight]);
    await this.#persistChain;
    this.#api?.stopClient();
    this.#detail = "stopped";
    sdkSinks.delete(this.#log);
  }

  status(): AdapterStatus {
    return {
      connected: this.#connected,
      ...(this.#lastActivity !== undefined ? { lastActivity: this.#lastActivity } : {}),
      detail: this.#detail,
    };
  }
}
