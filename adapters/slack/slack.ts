import { channel as diagnosticsChannel } from "node:diagnostics_channel";
import { EventEmitter } from "node:events";
import { App, LogLevel, type Logger as SlackLogger, SocketModeReceiver, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { z } from "zod";
import type { slackSchema } from "../../src/config/schema.ts";
import type { Adapter, AdapterStatus, MessageHandler } from "../../src/core/adapter.ts";
import type { Message } from "../../src/core/message.ts";
import type { Reply } from "../../src/core/reply.ts";
import type { HttpServer } from "../../src/http/server.ts";
import type { Metrics } from "../../src/metrics.ts";
import type { Store } from "../../src/store/store.ts";
import { Dedupe } from "../common/dedupe.ts";
import { Watchdog, type WatchdogTimers } from "../common/watchdog.ts";
import { SlackHttpReceiver } from "./receiver.ts";
import { normaliseIncoming, renderSlack } from "./render.ts";

export type SlackConfig = z.infer<typeof slackSchema>;

/** A start failure with one clear line for the operator (no stack trace, no secret). */
export class SlackStartError extends Error {
  override name = "SlackStartError";
}

export interface SlackAdapterOptions {
  config: SlackConfig;
  log: Logger;
  /** Backs the event-id dedupe, so a restart does not answer a re-delivery twice. */
  store?: Store;
  /** The bot's HTTP server; required in http mode (events arrive on /slack/events). */
  http?: HttpServer;
  metrics?: Metrics;
  /** Socket Mode: how long to wait for a pong, ms; also the library's reconnect delay step. Default 5000. */
  clientPingTimeoutMs?: number;
  /** Socket Mode: how long without a server ping before reconnecting, ms. Default 30000. */
  serverPingTimeoutMs?: number;
  /** Liveness watchdog (socket mode): silence longer than timeoutMs forces a reconnect. false: off. */
  watchdog?: false | { timeoutMs?: number; timers?: WatchdogTimers };
  /** Retry policy for Web API calls (chat.postMessage); default web-api's (rate limits are always waited out). */
  retryConfig?: webApi.RetryOptions;
  now?: () => number;
  /** Told about every event dropped on purpose (tests, debugging). */
  onDrop?: (why: "duplicate" | "ignored", eventId: string) => void;
}

/** Message subtypes that are a person saying something; every other subtype (edits, joins, bots) is ignored. */
const SPOKEN_SUBTYPES = new Set([undefined, "thread_broadcast", "file_share", "me_message"]);

interface SlackMessageEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  channel?: string;
  channel_type?: string;
}

/**
 * Slack through @slack/bolt: Socket Mode by default (nothing to expose to the internet), the HTTP
 * Events API on the bot's own server as an option. Events are acked by Bolt before any work, deduped
 * by event id (and by channel+ts, since a mention arrives both as `message` and `app_mention`),
 * answered in the asker's thread, and rendered as mrkdwn + Block Kit.
 */
export class SlackAdapter implements Adapter {
  readonly platform = "slack";
  readonly #opts: SlackAdapterOptions;
  readonly #log: Logger;
  readonly #dedupe: Dedupe;
  readonly #now: () => number;
  #app: App | null = null;
  #socket: SocketModeReceiver | null = null;
  #watchdog: Watchdog | null = null;
  #handler: MessageHandler | null = null;
  #botUserId: string | undefined;
  #botId: string | undefined;
  #connected = false;
  #state = "stopped";
  #lastActivity: number | undefined;
  #stopping = false;
  #restarting: Promise<void> | null = null;
  #unsubscribePong: (() => void) | null = null;
  /** Reconnects forced by the watchdog (tests and logs). */
  restarts = 0;
  /** Emits "state" (connected: boolean, state: string) whenever the connection state changes. */
  readonly events = new EventEmitter();

  constructor(opts: SlackAdapterOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ platform: "slack" });
    this.#now = opts.now ?? Date.now;
    this.#dedupe = new Dedupe({
      ...(opts.store ? { store: opts.store } : {}),
      prefix: "dedupe:slack:",
      ttlMs: 60 * 60 * 1000,
      now: this.#now,
      onStoreError: (err) => this.#log.warn({ err: String(err) }, "dedupe store failed; deduplicating in memory only"),
    });
  }

  /** The bot's own Slack user id (from auth.test). */
  get botUserId(): string | undefined {
    return this.#botUserId;
  }

  async start(handler: MessageHandler): Promise<void> {
    const { config } = this.#opts;
    this.#handler = handler;
    this.#stopping = false;
    if (config.mode === "socket" && !config.appToken)
      throw new SlackStartError("adapters.slack.appToken is required in socket mode (an xapp-… token with connections:write)");
    if (config.mode === "http" && !config.signingSecret)
      throw new SlackStartError("adapters.slack.signingSecret is required in http mode");
    if (config.mode === "http" && !this.#opts.http)
      throw new SlackStartError("adapters.slack.mode http needs the bot's HTTP server: set http.port (e.g. 8080)");

    const slackApiUrl = config.apiUrl ? (config.apiUrl.endsWith("/") ? config.apiUrl : `${config.apiUrl}/`) : undefined;
    const logger = boltLogger(this.#log);
    this.#state = "authenticating";
    await this.#authTest(slackApiUrl, logger);

    const clientOptions: webApi.WebClientOptions = {
      ...(slackApiUrl ? { slackApiUrl } : {}),
      ...(this.#opts.retryConfig ? { retryConfig: this.#opts.retryConfig } : {}),
    };
    let receiver: SocketModeReceiver | SlackHttpReceiver;
    if (config.mode === "socket") {
      receiver = new SocketModeReceiver({
        appToken: config.appToken!,
        logger,
        clientPingTimeout: this.#opts.clientPingTimeoutMs ?? 5000,
        serverPingTimeout: this.#opts.serverPingTimeoutMs ?? 30_000,
        // apps.connections.open goes to the same API base (a fake in tests, Enterprise Grid proxies).
        installerOptions: { clientOptions: { ...(slackApiUrl ? { slackApiUrl } : {}) } },
      });
      this.#socket = receiver;
      this.#watchSocket(receiver);
    } else {
      receiver = new SlackHttpReceiver({
        server: this.#opts.http!,
        signingSecret: config.signingSecret!,
        logger,
        now: this.#now,
        onRequest: () => this.#heard(),
        onRejected: (why) => {
          this.#log.warn({ why }, "slack request refused: bad signature");
          this.#opts.metrics?.error("slack", "signature");
        },
      });
    }
    const app = new App({
      token: config.botToken,
      botId: this.#botId!,
      botUserId: this.#botUserId!,
      tokenVerificationEnabled: false, // auth.test already ran, with a clear error
      receiver,
      logger,
      clientOptions,
      ignoreSelf: true,
    });
    app.event("message", async ({ event, body }) =>
      this.#onEvent("message", event as unknown as SlackMessageEvent, body as { event_id?: string }),
    );
    app.event("app_mention", async ({ event, body }) =>
      this.#onEvent("app_mention", event as unknown as SlackMessageEvent, body as { event_id?: string }),
    );
    app.error(async (err) => {
      this.#log.error({ err: err.message }, "slack listener failed");
      this.#opts.metrics?.error("slack", "listener");
    });
    this.#app = app;
    this.#state = "connecting";
    try {
      await app.start();
    } catch (err) {
      this.#state = "failed";
      throw new SlackStartError(`Slack ${config.mode === "socket" ? "Socket Mode" : "events"} did not start: ${describe(err)}`);
    }
    if (config.mode === "http") {
      this.#connected = true;
      this.#state = "listening";
      this.events.emit("state", true, this.#state);
    }
    this.#startWatchdog();
    this.#log.info({ mode: config.mode, botUserId: this.#botUserId }, "slack connected");
  }

  async #authTest(slackApiUrl: string | undefined, logger: SlackLogger): Promise<void> {
    // A short retry policy: at start, a wrong URL should fail in seconds, not after web-api's 30 minutes.
    const client = new webApi.WebClient(this.#opts.config.botToken, {
      ...(slackApiUrl ? { slackApiUrl } : {}),
      logger,
      retryConfig: { retries: 2, factor: 1, minTimeout: 200, maxTimeout: 1000 },
    });
    try {
      const r = await client.auth.test();
      this.#botUserId = r.user_id;
      this.#botId = r.bot_id;
      if (!r.user_id)
        throw new SlackStartError("Slack auth.test returned no user id; is adapters.slack.botToken a bot token (xoxb-…)?");
    } catch (err) {
      this.#state = "failed";
      if (err instanceof SlackStartError) throw err;
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code)
        throw new SlackStartError(
          `Slack refused the bot token (auth.test: ${code}); check adapters.slack.botToken (an xoxb-… token of an installed app)`,
        );
      throw new SlackStartError(
        `could not reach Slack for auth.test at ${slackApiUrl ?? "https://slack.com/api/"}: ${describe(err)}`,
      );
    }
  }

  #watchSocket(receiver: SocketModeReceiver): void {
    const client = receiver.client;
    const set = (connected: boolean, state: string) => () => {
      this.#connected = connected;
      this.#state = state;
      this.events.emit("state", connected, state);
      if (connected) this.#heard();
      else if (!this.#stopping) this.#log.warn({ state }, "slack socket not connected");
    };
    client.on("connected", set(true, "connected"));
    client.on("reconnecting", set(false, "reconnecting"));
    client.on("disconnecting", set(false, "disconnecting"));
    client.on("disconnected", set(false, "disconnected"));
    client.on("close", set(false, "closed"));
    client.on("connected", () => this.#log.info("slack socket connected"));
    client.on("ws_message", () => this.#heard());
    // Pongs to the client's pings are the steady sign of life on a quiet workspace.
    const ch = diagnosticsChannel("undici:websocket:pong");
    const onPong = (m: unknown) => {
      const inner = (client as unknown as { websocket?: { websocket?: unknown } }).websocket?.websocket;
      if (inner && (m as { websocket?: unknown }).websocket === inner) this.#heard();
    };
    ch.subscribe(onPong);
    this.#unsubscribePong = () => ch.unsubscribe(onPong);
  }

  #startWatchdog(): void {
    const wd = this.#opts.watchdog;
    if (wd === false || !this.#socket) return;
    this.#watchdog = new Watchdog({
      timeoutMs: wd?.timeoutMs ?? 120_000,
      ...(wd?.timers ? { timers: wd.timers } : {}),
      onSilent: (ms) => this.#restart(`silent for ${Math.round(ms / 1000)} s`),
      onError: (err) => this.#log.error({ err: describe(err) }, "slack watchdog reconnect failed"),
    });
    this.#watchdog.start();
  }

  #heard(): void {
    this.#lastActivity = this.#now();
    this.#watchdog?.heard();
  }

  /**
   * Tears the socket down and opens a new one. The socket-mode client reconnects by itself after a
   * close or a missed pong; this is for the connection that looks open but says nothing.
   */
  #restart(why: string): Promise<void> {
    if (this.#restarting || this.#stopping || !this.#socket) return this.#restarting ?? Promise.resolve();
    const client = this.#socket.client;
    this.#restarting = (async () => {
      this.restarts++;
      this.#log.warn({ why }, "slack connection silent; reconnecting");
      this.#opts.metrics?.error("slack", "watchdog");
      this.#connected = false;
      this.#state = "restarting";
      const ws = (client as unknown as { websocket?: { disconnect(): void } }).websocket;
      const done = client.disconnect();
      ws?.disconnect(); // the second call does not wait for a close handshake a dead peer will never send
      await done;
      if (this.#stopping) return;
      await client.start();
    })().finally(() => {
      this.#restarting = null;
    });
    return this.#restarting;
  }

  async #onEvent(kind: "message" | "app_mention", event: SlackMessageEvent, body: { event_id?: string }): Promise<void> {
    this.#heard();
    const handler = this.#handler;
    if (!handler) return;
    const eventId = body.event_id ?? `${event.channel}:${event.ts}`;
    const spoken =
      !event.bot_id &&
      event.user &&
      event.user !== this.#botUserId &&
      SPOKEN_SUBTYPES.has(event.subtype) &&
      event.channel &&
      event.ts;
    if (!spoken || !event.user || !event.channel || !event.ts) {
      this.#opts.onDrop?.("ignored", eventId); // bots, ourselves, edits, joins
      return;
    }
    // Slack re-delivers an event (same event_id) when an ack was late; a mention also arrives twice
    // (message + app_mention, different event ids, same channel and ts).
    if (!(await this.#dedupe.claim(`ev:${eventId}`)) || !(await this.#dedupe.claim(`ts:${event.channel}:${event.ts}`))) {
      this.#log.debug({ eventId }, "slack duplicate event dropped");
      this.#opts.onDrop?.("duplicate", eventId);
      return;
    }
    const { text, mentioned } = normaliseIncoming(event.text ?? "", this.#botUserId);
    const msg: Message = {
      platform: this.platform,
      room: event.channel,
      userId: event.user,
      text,
      eventId,
      ...(event.thread_ts ? { thread: event.thread_ts } : {}),
      addressed: kind === "app_mention" || event.channel_type === "im" || mentioned,
    };
    let reply: Reply | null;
    try {
      reply = await handler(msg);
    } catch (err) {
      this.#log.error({ err: describe(err), eventId }, "slack message handler failed");
      return;
    }
    if (reply) await this.#post(event.channel, reply, eventId);
  }

  async #post(channel: string, reply: Reply, eventId?: string): Promise<void> {
    const app = this.#app;
    if (!app) throw new Error("slack adapter is not started");
    try {
      await app.client.chat.postMessage({ channel, ...renderSlack(reply), unfurl_links: false, unfurl_media: false });
    } catch (err) {
      this.#log.error({ err: describe(err), channel, eventId }, "slack chat.postMessage failed");
      this.#opts.metrics?.error("slack", "send");
      if (!eventId) throw err;
    }
  }

  async send(room: string, reply: Reply): Promise<void> {
    await this.#post(room, reply);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#watchdog?.stop();
    this.#unsubscribePong?.();
    this.#unsubscribePong = null;
    await this.#restarting?.catch(() => {});
    const app = this.#app;
    this.#app = null;
    if (this.#socket) {
      // Do not wait for a close handshake from a peer that may be gone.
      const client = this.#socket.client;
      const ws = (client as unknown as { websocket?: { disconnect(): void } }).websocket;
      const done = client.disconnect();
      ws?.disconnect();
      await done;
      this.#socket = null;
    } else await app?.stop();
    this.#connected = false;
    this.#state = "stopped";
  }

  status(): AdapterStatus {
    return {
      connected: this.#connected,
      ...(this.#lastActivity !== undefined ? { lastActivity: this.#lastActivity } : {}),
      detail: `${this.#opts.config.mode}: ${this.#state}`,
    };
  }
}

function describe(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  if (e?.data?.error) return e.data.error;
  const msg = (e?.message ?? String(err)).split("\n")[0] ?? "unknown error";
  return msg.replace(/(xox[abpr]|xapp)-[\w-]+/g, "$1-***");
}

/** Bolt's logger interface over pino (debug from Bolt stays at debug). */
export function boltLogger(log: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === "string" ? m : describe(m))).join(" ");
  return {
    debug: (...msg: unknown[]) => log.debug(fmt(msg)),
    info: (...msg: unknown[]) => log.info(fmt(msg)),
    warn: (...msg: unknown[]) => log.warn(fmt(msg)),
    error: (...msg: unknown[]) => log.error(fmt(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
