import { createHmac, randomUUID } from "node:crypto";
import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/** A chat.postMessage the fake received, with blocks decoded. */
export interface Post {
  channel: string;
  text: string;
  thread_ts?: string;
  blocks?: unknown[];
  ts: string;
}

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
}

/**
 * A fake Slack on 127.0.0.1 that speaks the real protocols, so the real @slack/bolt / web-api /
 * socket-mode clients can be driven against it:
 * - Web API under `apiUrl` (`auth.test`, `chat.postMessage`, `chat.update`, `apps.connections.open`), form or JSON
 *   bodies, Bearer tokens checked, `429 Retry-After` on demand;
 * - a Socket Mode WebSocket (`hello`, `events_api` envelopes that expect an ack with their
 *   envelope_id, `disconnect`, dropped connections, going silent);
 * - signed Events API HTTP requests for http mode (`postSignedEvent`).
 */
export class FakeSlack extends EventEmitter {
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly posts: Post[] = [];
  /** Every accepted chat.update, in order (the post in `posts` shows the latest text). */
  readonly updates: Array<{ channel: string; ts: string; text: string; blocks?: unknown[] }> = [];
  /** Every Web API call, by method name, in order (including rate-limited ones). */
  readonly calls: string[] = [];
  /** Sockets opened so far (reconnects add to it). */
  connections = 0;
  #server: Server | null = null;
  #wss: WebSocketServer | null = null;
  readonly #sockets = new Set<WebSocket>();
  readonly #acks = new Map<string, (payload: unknown) => void>();
  readonly #rateLimits = new Map<string, { count: number; retryAfter: number }>();
  #silent = false;
  #hold = 0;
  #ts = 1_700_000_000;

  constructor(opts: FakeSlackOptions = {}) {
    super();
    this.botToken = opts.botToken ?? "xoxb-fake-bot-token";
    this.appToken = opts.appToken ?? "xapp-fake-app-token";
    this.signingSecret = opts.signingSecret ?? "fake-signing-secret";
    this.botUserId = opts.botUserId ?? "UBOT";
    this.botId = opts.botId ?? "BBOT";
    this.teamId = opts.teamId ?? "T0001";
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The Web API base, as a WebClient `slackApiUrl` (ends with a slash). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** Open sockets right now. */
  get openSockets(): number {
    return this.#sockets.size;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#http(req, res));
    // autoPong off: the fake answers pings itself, so a test can make it go silent.
    const wss = new WebSocketServer({ noServer: true, autoPong: false });
    server.on("upgrade", (req, socket, head) => {
      if (!req.url?.startsWith("/link")) return socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
    this.#server = server;
    this.#wss = wss;
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return this;
  }

  async stop(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    this.#wss?.close();
    const server = this.#server;
    this.#server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  /** Answers the next `count` calls of `method` with 429 and `Retry-After: retryAfter` (seconds). */
  rateLimit(method: string, count = 1, retryAfter = 0): void {
    this.#rateLimits.set(method, { count, retryAfter });
  }

  /**
   * The next `count` chat.postMessage calls are held: never answered nor posted (emits "held" with
   * the arguments), as if the client died before Slack acknowledged; a test then kills the client.
   */
  holdPosts(count = 1): void {
    this.#hold = count;
  }

  /** Resolves on the next new socket (after its `hello` was sent). */
  nextConnection(): Promise<void> {
    return once(this, "connection").then(() => undefined);
  }

  /** Resolves with the next post matching `pred` (or one already received, from index `from`). */
  waitForPost(pred: (p: Post) => boolean = () => true, from = 0): Promise<Post> {
    const already = this.posts.slice(from).find(pred);
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => {
      const on = (p: Post) => {
        if (pred(p)) {
          this.off("post", on);
          resolve(p);
        }
      };
      this.on("post", on);
    });
  }

  /**
   * Sends an `events_api` envelope over the newest socket; resolves with the ack's envelope id when
   * the client acks it. `eventId` is the Slack event_id (the same for a re-delivery).
   */
  sendEvent(event: Record<string, unknown>, opts: { eventId?: string; retryAttempt?: number } = {}): Promise<string> {
    const ws = [...this.#sockets].at(-1);
    if (!ws) throw new Error("fake slack: no socket connected");
    const envelopeId = randomUUID();
    const acked = new Promise<string>((resolve) => this.#acks.set(envelopeId, () => resolve(envelopeId)));
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type: "events_api",
        accepts_response_payload: false,
        retry_attempt: opts.retryAttempt ?? 0,
        retry_reason: opts.retryAttempt ? "timeout" : "",
        payload: this.eventBody(event, opts.eventId),
      }),
    );
    return acked;
  }

  /** The body of an Events API `event_callback` (what Slack POSTs in http mode, or wraps in an envelope). */
  eventBody(event: Record<string, unknown>, eventId = `Ev${randomUUID().slice(0, 8)}`): Record<string, unknown> {
    return {
      token: "verification-token-unused",
      team_id: this.teamId,
      api_app_id: "A0001",
      event: { event_ts: event.ts, ...event },
      type: "event_callback",
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    };
  }

  /** A message event as a user would send it. */
  message(text: string, opts: { user?: string; channel?: string; thread_ts?: string; channel_type?: string; ts?: string } = {}) {
    return {
      type: "message",
      user: opts.user ?? "UALICE",
      text,
      ts: opts.ts ?? this.nextTs(),
      channel: opts.channel ?? "C0001",
      channel_type: opts.channel_type ?? "channel",
      ...(opts.thread_ts ? { thread_ts: opts.thread_ts } : {}),
    };
  }

  nextTs(): string {
    return `${++this.#ts}.000100`;
  }

  /** Closes every socket abruptly (no close frame), as a network failure would. */
  dropConnections(): void {
    for (const ws of this.#sockets) ws.terminate();
  }

  /** Sends Slack's `disconnect` message (the client should reconnect). */
  sendDisconnect(reason = "refresh_requested"): void {
    for (const ws of this.#sockets) ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "fake" } }));
  }

  /** Stops answering pings and sending anything (a half-open connection), or resumes. */
  setSilent(silent: boolean): void {
    this.#silent = silent;
  }

  /** Signs a body the way Slack does (v0 HMAC-SHA256 over `v0:timestamp:body`). */
  sign(body: string, timestamp: number, secret = this.signingSecret): string {
    return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  }

  /** POSTs a signed Events API request to `url`, as Slack does in http mode. */
  async postSignedEvent(
    url: string,
    body: Record<string, unknown>,
    opts: { timestamp?: number; secret?: string; signature?: string; retryNum?: number } = {},
  ): Promise<Response> {
    const text = JSON.stringify(body);
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    return fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-slack-request-timestamp": String(ts),
        "x-slack-signature": opts.signature ?? this.sign(text, ts, opts.secret),
        ...(opts.retryNum ? { "x-slack-retry-num": String(opts.retryNum), "x-slack-retry-reason": "http_timeout" } : {}),
      },
      body: text,
    });
  }

  #onSocket(ws: WebSocket): void {
    this.#sockets.add(ws);
    this.connections++;
    ws.on("ping", (data) => {
      if (!this.#silent) ws.pong(data);
    });
    ws.on("message", (raw) => {
      let msg: { envelope_id?: string; payload?: unknown };
      try {
        msg = JSON.parse(String(raw));
      } catch {
        return;
      }
      if (msg.envelope_id) {
        this.emit("ack", msg.envelope_id);
        this.#acks.get(msg.envelope_id)?.(msg.payload);
        this.#acks.delete(msg.envelope_id);
      }
    });
    ws.on("close", () => {
      this.#sockets.delete(ws);
      this.emit("socket-closed");
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.#sockets.size,
        debug_info: { host: "fake-slack", approximate_connection_time: 3600 },
        connection_info: { app_id: "A0001" },
      }),
    );
    this.emit("connection");
  }

  async #http(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^\/api\/([\w.]+)$/.exec(url.pathname);
    if (!m?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const method = m[1];
    this.calls.push(method);
    const limit = this.#rateLimits.get(method);
    if (limit && limit.count > 0) {
      limit.count--;
      this.emit("rate-limited", method);
      res.writeHead(429, { "retry-after": String(limit.retryAfter), "content-type": "application/json" });
      res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
      return;
    }
    const args = parseArgs(raw, req.headers["content-type"]);
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "") || String(args.token ?? "");
    const reply = (body: Record<string, unknown>) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    switch (method) {
      case "auth.test":
        if (token !== this.botToken) return reply({ ok: false, error: "invalid_auth" });
        return reply({
          ok: true,
          url: "https://fake.slack.com/",
          team: "Fake",
          user: "binderbot",
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
        });
      case "apps.connections.open":
        if (token !== this.appToken) return reply({ ok: false, error: "invalid_auth" });
        return reply({ ok: true, url: `ws://127.0.0.1:${this.port}/link?ticket=${randomUUID()}` });
      case "chat.postMessage": {
        if (token !== this.botToken) return reply({ ok: false, error: "invalid_auth" });
        if (typeof args.channel !== "string" || !args.channel) return reply({ ok: false, error: "channel_not_found" });
        if (this.#hold > 0) {
          this.#hold--;
          this.emit("held", args);
          return;
        }
        const blocks = typeof args.blocks === "string" ? JSON.parse(args.blocks) : args.blocks;
        const post: Post = {
          channel: args.channel,
          text: String(args.text ?? ""),
          ts: this.nextTs(),
          ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
          ...(blocks ? { blocks: blocks as unknown[] } : {}),
        };
        this.posts.push(post);
        this.emit("post", post);
        return reply({ ok: true, channel: post.channel, ts: post.ts, message: { text: post.text, bot_id: this.botId } });
      }
      case "chat.update": {
        if (token !== this.botToken) return reply({ ok: false, error: "invalid_auth" });
        // As Slack: only a message this bot posted, found by channel and ts, can be edited.
        const post = this.posts.find((p) => p.channel === args.channel && p.ts === args.ts);
        if (!post) return reply({ ok: false, error: "message_not_found" });
        if (args.thread_ts !== undefined) return reply({ ok: false, error: "invalid_arguments" });
        const blocks = typeof args.blocks === "string" ? JSON.parse(args.blocks) : args.blocks;
        post.text = String(args.text ?? "");
        if (blocks) post.blocks = blocks as unknown[];
        const update = {
          channel: post.channel,
          ts: post.ts,
          text: post.text,
          ...(blocks ? { blocks: blocks as unknown[] } : {}),
        };
        this.updates.push(update);
        this.emit("update", update);
        return reply({ ok: true, channel: post.channel, ts: post.ts, text: post.text });
      }
      default:
        return reply({ ok: false, error: "unknown_method" });
    }
  }
}

function parseArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes("application/json")) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}
