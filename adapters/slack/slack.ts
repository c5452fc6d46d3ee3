import { EventEmitter } from "node:events";
import { App, type Logger as SlackLogger, SocketModeReceiver, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { z } from "zod";
import type { slackSchema } from "../../src/config/schema.ts";
import { type Adapter, type AdapterStatus, answering, type MessageHandler, type Posted } from "../../src/core/adapter.ts";
import type { Reply } from "../../src/core/reply.ts";
import type { HttpServer } from "../../src/http/server.ts";
import type { Metrics } from "../../src/metrics.ts";
import type { Store } from "../../src/store/store.ts";
import type { WatchdogTimers } from "../common/watchdog.ts";
import { type DropReason, SlackInbound, type SlackMessageEvent } from "./inbound.ts";
import { boltLogger, slackErrorLine } from "./log.ts";
import { SlackHttpReceiver } from "./receiver.ts";
import { renderSlack } from "./render.ts";
import { SlackSocket } from "./socket.ts";

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
  onDrop?: (why: DropReason, eventId: string) => void;
}

/**
 * Slack through @slack/bolt: Socket Mode by default (nothing to expose to the internet; socket.ts
 * keeps it alive), the HTTP Events API on the bot's own server as an option (receiver.ts). Events are
 * acked by Bolt before any work, turned into Messages once each (inbound.ts), answered in the asker's
 * thread, and rendered as mrkdwn + Block Kit (render.ts).
 */
export class SlackAdapter implements Adapter {
  readonly platform = "slack";
  readonly #opts: SlackAdapterOptions;
  readonly #log: Logger;
  readonly #inbound: SlackInbound;
  readonly #now: () => number;
  #app: App | null = null;
  #socket: SlackSocket | null = null;
  #handler: MessageHandler | null = null;
  #abandoned = false;
  #botUserId: string | undefined;
  #botId: string | undefined;
  #connected = false;
  #state = "stopped";
  #lastActivity: number | undefined;
  /** Reconnects forced by the watchdog (tests and logs). */
  restarts = 0;
  /** Emits "state" (connected: boolean, state: string) whenever the connection state changes. */
  readonly events = new EventEmitter();

  constructor(opts: SlackAdapterOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ platform: "slack" });
    this.#now = opts.now ?? Date.now;
    this.#inbound = new SlackInbound({ log: this.#log, store: opts.store, now: this.#now, onDrop: opts.onDrop });
  }

  /** The bot's own Slack user id (from auth.test). */
  get botUserId(): string | undefined {
    return this.#botUserId;
  }

  async start(handler: MessageHandler): Promise<void> {
    const { config } = this.#opts;
    this.#handler = handler;
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
      this.#socket = new SlackSocket(receiver, {
        log: this.#log,
        metrics: this.#opts.metrics,
        watchdog: this.#opts.watchdog,
        onState: (connected, state) => {
          this.#connected = connected;
          this.#state = state;
          this.events.emit("state", connected, state);
        },
        onHeard: () => this.#heard(),
        onRestart: () => {
          this.restarts++;
          this.#connected = false;
          this.#state = "restarting";
        },
      });
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
      this.#log.error({ err: slackErrorLine(err) }, "slack listener failed");
      this.#opts.metrics?.error("slack", "listener");
    });
    this.#app = app;
    this.#state = "connecting";
    try {
      await app.start();
    } catch (err) {
      this.#state = "failed";
      throw new SlackStartError(
        `Slack ${config.mode === "socket" ? "Socket Mode" : "events"} did not start: ${slackErrorLine(err)}`,
      );
    }
    if (config.mode === "http") {
      this.#connected = true;
      this.#state = "listening";
      this.events.emit("state", true, this.#state);
    }
    this.#socket?.startWatchdog();
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
        `could not reach Slack for auth.test at ${slackApiUrl ?? "https://slack.com/api/"}: ${slackErrorLine(err)}`,
      );
    }
  }

  #heard(): void {
    this.#lastActivity = this.#now();
    this.#socket?.heard();
  }

  async #onEvent(kind: "message" | "app_mention", event: SlackMessageEvent, body: { event_id?: string }): Promise<void> {
    this.#heard();
    const handler = this.#handler;
    if (!handler) return;
    const msg = await this.#inbound.toMessage(kind, event, body, this.#botUserId);
    if (!msg) return;
    const { outlet, done } = answering(this);
    try {
      try {
        const reply = await handler(msg, outlet);
        if (this.#abandoned) return; // past the shutdown deadline: left unhandled for a redelivery
        if (reply) await this.#post(msg.room, reply, msg.eventId); // a failure is logged and counted in #post
      } catch (err) {
        await this.#inbound.unanswered(msg.eventId);
        this.#log.error({ err: slackErrorLine(err), eventId: msg.eventId }, "slack could not answer");
        return;
      }
      // Only now is the event handled: a process that died before this answers its redelivery.
      await this.#inbound.answered(msg.eventId);
    } finally {
      done();
    }
  }

  #client(): App["client"] {
    if (!this.#app) throw new Error("slack adapter is not started");
    return this.#app.client;
  }

  async #post(channel: string, reply: Reply, eventId?: string): Promise<Posted> {
    const client = this.#client();
    const rendered = renderSlack(reply);
    try {
      const r = await client.chat.postMessage({ channel, ...rendered, unfurl_links: false, unfurl_media: false });
      return { room: r.channel ?? channel, id: r.ts ?? "", ...(rendered.thread_ts ? { thread: rendered.thread_ts } : {}) };
    } catch (err) {
      this.#log.error({ err: slackErrorLine(err), channel, eventId }, "slack chat.postMessage failed");
      this.#opts.metrics?.error("slack", "send");
      throw err;
    }
  }

  async send(room: string, reply: Reply): Promise<Posted> {
    return this.#post(room, reply);
  }

  /** Edits a posted message in place (chat.update); it stays where it was, in its thread. */
  async update(posted: Posted, reply: Reply): Promise<Posted> {
    const { thread_ts: _thread, ...rendered } = renderSlack(reply);
    try {
      await this.#client().chat.update({ channel: posted.room, ts: posted.id, ...rendered });
      return posted;
    } catch (err) {
      this.#log.error({ err: slackErrorLine(err), channel: posted.room }, "slack chat.update failed");
      this.#opts.metrics?.error("slack", "send");
      throw err;
    }
  }

  abandon(): void {
    this.#abandoned = true;
  }

  async stop(): Promise<void> {
    this.#inbound.stop();
    await this.#socket?.halt();
    const app = this.#app;
    this.#app = null;
    if (this.#socket) {
      await this.#socket.disconnect();
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
