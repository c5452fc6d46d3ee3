import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A fake Matrix homeserver on 127.0.0.1 speaking the client-server API as far as matrix-js-sdk 37
 * uses it for a bot: versions, login, whoami, pushrules, capabilities, user filters, /sync long-poll
 * (since/next_batch/timeout, inline filter timeline limit), send (idempotent by txnId), join,
 * directory alias resolution, room state, joined_members and account data. Tests drive it: create
 * rooms, say things as other users, invite, re-deliver an event, rate-limit (429 retry_after_ms),
 * wait until a /sync long-poll is parked, drop every connection (FIN or RST), or swallow /sync
 * requests (a silent connection).
 */

export interface FakeEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  origin_server_ts: number;
  state_key?: string;
}

interface Stored {
  pos: number;
  event: FakeEvent;
}

interface Room {
  id: string;
  /** Current state, keyed `type\0stateKey`. */
  state: Map<string, FakeEvent>;
  public: boolean;
}

interface Waiter {
  userId: string;
  since: number;
  wake: () => void;
}

export interface RequestLog {
  method: string;
  path: string;
  status: number;
  at: number;
  userId?: string;
}

interface RateLimit {
  match: (method: string, path: string) => boolean;
  retryAfterMs: number;
  remaining: number;
}

const SERVER_NAME = "fake.local";

export class FakeHomeserver {
  readonly serverName: string;
  readonly requests: RequestLog[] = [];
  /** Routes the fake does not implement that a client asked for (a test can assert it is empty). */
  readonly unhandled: string[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timeline: Stored[] = [];
  readonly #rooms = new Map<string, Room>();
  readonly #aliases = new Map<string, string>();
  readonly #tokens = new Map<string, string>(); // token → userId
  readonly #passwords = new Map<string, string>(); // userId → password
  readonly #txns = new Map<string, string>(); // token|txnId → event_id
  readonly #filters = new Map<string, unknown>();
  readonly #accountData = new Map<string, Record<string, unknown>>(); // userId\0type → content
  readonly #waiters = new Set<Waiter>();
  readonly #sentWatchers = new Set<{ pred: (e: FakeEvent) => boolean; resolve: (e: FakeEvent) => void }>();
  readonly #requestWatchers = new Set<{ pred: (r: RequestLog) => boolean; resolve: (r: RequestLog) => void }>();
  readonly #parkWatchers = new Set<() => void>();
  readonly #rateLimits: RateLimit[] = [];
  #pos = 0;
  #seq = 0;
  #swallowSync = false;
  #url = "";

  constructor(serverName = SERVER_NAME) {
    this.serverName = serverName;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(res, 500, { errcode: "M_UNKNOWN", error: String(err) });
      });
    });
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}`;
    return this.#url;
  }

  get url(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    for (const w of this.#waiters) w.wake();
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ── test controls ────────────────────────────────────────────────────────────────────────────

  /** Registers a user; returns their access token. */
  addUser(userId: string, opts: { password?: string; token?: string } = {}): string {
    const token = opts.token ?? `tok_${randomBytes(8).toString("hex")}`;
    this.#tokens.set(token, userId);
    if (opts.password !== undefined) this.#passwords.set(userId, opts.password);
    return token;
  }

  /** Creates a room with `creator` joined; `members` join too, `invite` are invited. Returns the room id. */
  createRoom(opts: {
    creator: string;
    members?: string[];
    invite?: string[];
    alias?: string;
    public?: boolean;
    name?: string;
    isDirect?: boolean;
  }): string {
    const id = `!${randomBytes(6).toString("hex")}:${this.serverName}`;
    const room: Room = { id, state: new Map(), public: opts.public ?? true };
    this.#rooms.set(id, room);
    this.#emit(id, opts.creator, "m.room.create", { creator: opts.creator, room_version: "10" }, "");
    this.#emit(id, opts.creator, "m.room.member", { membership: "join" }, opts.creator);
    this.#emit(id, opts.creator, "m.room.power_levels", { users: { [opts.creator]: 100 }, users_default: 0 }, "");
    this.#emit(id, opts.creator, "m.room.join_rules", { join_rule: room.public ? "public" : "invite" }, "");
    if (opts.name) this.#emit(id, opts.creator, "m.room.name", { name: opts.name }, "");
    if (opts.alias) this.addAlias(opts.alias, id);
    for (const m of opts.members ?? []) this.#emit(id, m, "m.room.member", { membership: "join" }, m);
    for (const u of opts.invite ?? []) this.invite(id, opts.creator, u, opts.isDirect);
    return id;
  }

  addAlias(alias: string, roomId: string): void {
    this.#aliases.set(alias, roomId);
  }

  invite(roomId: string, inviter: string, invitee: string, isDirect = false): string {
    return this.#emit(
      roomId,
      inviter,
      "m.room.member",
      { membership: "invite", ...(isDirect ? { is_direct: true } : {}) },
      invitee,
    );
  }

  join(roomId: string, userId: string): string {
    return this.#emit(roomId, userId, "m.room.member", { membership: "join" }, userId);
  }

  /** A user says something; returns the event id. */
  say(
    roomId: string,
    sender: string,
    body: string,
    opts: { thread?: string; mentions?: string[]; formattedBody?: string; msgtype?: string; replace?: string; ts?: number } = {},
  ): string {
    const content: Record<string, unknown> = { msgtype: opts.msgtype ?? "m.text", body };
    if (opts.formattedBody !== undefined) {
      content.format = "org.matrix.custom.html";
      content.formatted_body = opts.formattedBody;
    }
    if (opts.mentions) content["m.mentions"] = { user_ids: opts.mentions };
    if (opts.thread)
      content["m.relates_to"] = {
        rel_type: "m.thread",
        event_id: opts.thread,
        is_falling_back: true,
        "m.in_reply_to": { event_id: opts.thread },
      };
    if (opts.replace) content["m.relates_to"] = { rel_type: "m.replace", event_id: opts.replace };
    return this.#emit(roomId, sender, "m.room.message", content, undefined, opts.ts);
  }

  /** Puts an already-sent event into the stream again (a homeserver/proxy re-delivery). */
  redeliver(eventId: string): void {
    const found = this.#timeline.find((s) => s.event.event_id === eventId);
    if (!found) throw new Error(`no event ${eventId}`);
    this.#append(found.event);
  }

  setAccountData(userId: string, type: string, content: Record<string, unknown>): void {
    this.#accountData.set(`${userId}\0${type}`, content);
  }

  /** The next `count` requests whose path matches get a 429 M_LIMIT_EXCEEDED with retry_after_ms. */
  rateLimit(match: RegExp | ((method: string, path: string) => boolean), retryAfterMs: number, count = 1): void {
    const fn = match instanceof RegExp ? (_m: string, p: string) => match.test(p) : match;
    this.#rateLimits.push({ match: fn, retryAfterMs, remaining: count });
  }

  /**
   * Drops every open TCP connection, answered or not: "close" ends it with a FIN (a server or proxy
   * closing it), "reset" with an RST (a load balancer or firewall forgetting it). A request in flight
   * (a parked /sync: see syncParked) fails with a network error. Dropped just after an answer, the
   * client may get the answer and reuse or replace the connection: nothing in flight fails then.
   */
  dropConnections(how: "close" | "reset" = "close"): void {
    for (const s of this.#sockets) {
      if (how === "reset") s.resetAndDestroy();
      else s.destroy();
    }
    this.#sockets.clear();
  }

  /** Resolves when a /sync long-poll is parked waiting for news (at once if one is parked now). */
  syncParked(): Promise<void> {
    if (this.#waiters.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.#parkWatchers.add(resolve));
  }

  /**
   * While on, /sync requests are accepted and never answered: a connection gone silent. Turning it
   * off leaves those requests hanging (as a dead TCP peer would); only new requests are answered.
   */
  swallowSync(on: boolean): void {
    this.#swallowSync = on;
  }

  /** Events in a room, in order (what a client would see), optionally only those of one sender. */
  events(roomId: string, sender?: string): FakeEvent[] {
    const seen = new Set<string>();
    const out: FakeEvent[] = [];
    for (const s of this.#timeline) {
      if (s.event.room_id !== roomId || seen.has(s.event.event_id)) continue;
      seen.add(s.event.event_id);
      if (sender === undefined || s.event.sender === sender) out.push(s.event);
    }
    return out;
  }

  /** Resolves with the next event a client sends (PUT …/send) that matches. */
  nextSent(pred: (e: FakeEvent) => boolean = () => true): Promise<FakeEvent> {
    return new Promise((resolve) => this.#sentWatchers.add({ pred, resolve }));
  }

  /** Resolves with the next request matching. */
  nextRequest(pred: (r: RequestLog) => boolean): Promise<RequestLog> {
    return new Promise((resolve) => this.#requestWatchers.add({ pred, resolve }));
  }

  membership(roomId: string, userId: string): string | undefined {
    return (
      (this.#rooms.get(roomId)?.state.get(`m.room.member\0${userId}`)?.content.membership as string | undefined) ?? undefined
    );
  }

  // ── the stream ───────────────────────────────────────────────────────────────────────────────

  #emit(roomId: string, sender: string, type: string, content: Record<string, unknown>, stateKey?: string, ts?: number): string {
    const room = this.#rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    const event: FakeEvent = {
      event_id: `$${++this.#seq}${randomBytes(6).toString("hex")}:${this.serverName}`,
      room_id: roomId,
      type,
      sender,
      content,
      origin_server_ts: ts ?? Date.now(),
      ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    };
    if (stateKey !== undefined) room.state.set(`${type}\0${stateKey}`, event);
    this.#append(event);
    return event.event_id;
  }

  #append(event: FakeEvent): void {
    this.#timeline.push({ pos: ++this.#pos, event });
    for (const w of [...this.#waiters]) w.wake();
  }

  #isJoined(roomId: string, userId: string): boolean {
    return this.membership(roomId, userId) === "join";
  }

  /** Membership of user in room as of stream position pos (inclusive). */
  #membershipAt(roomId: string, userId: string, pos: number): string | undefined {
    let m: string | undefined;
    for (const s of this.#timeline) {
      if (s.pos > pos) break;
      const e = s.event;
      if (e.room_id === roomId && e.type === "m.room.member" && e.state_key === userId) m = e.content.membership as string;
    }
    return m;
  }

  #clientEvent(e: FakeEvent): Record<string, unknown> {
    const { room_id: _r, ...rest } = e;
    return { ...rest, unsigned: { age: Math.max(0, Date.now() - e.origin_server_ts) } };
  }

  #sync(userId: string, since: number | null, limit: number): Record<string, unknown> {
    const join: Record<string, unknown> = {};
    const invite: Record<string, unknown> = {};
    const leave: Record<string, unknown> = {};
    const from = since ?? 0;
    for (const room of this.#rooms.values()) {
      const now = this.membership(room.id, userId);
      const before = since === null ? undefined : this.#membershipAt(room.id, userId, since);
      const newEvents = this.#timeline.filter((s) => s.event.room_id === room.id && s.pos > from).map((s) => s.event);
      if (now === "join") {
        const fresh = since === null || before !== "join";
        if (!fresh && newEvents.length === 0) continue;
        let timeline = newEvents;
        let limited = false;
        if (fresh && timeline.length > limit) {
          timeline = timeline.slice(timeline.length - limit);
          limited = true;
        }
        const inTimeline = new Set(timeline.map((e) => e.event_id));
        const state = fresh ? [...room.state.values()].filter((e) => !inTimeline.has(e.event_id)) : [];
        join[room.id] = {
          timeline: { events: timeline.map((e) => this.#clientEvent(e)), limited, prev_batch: `p${from}` },
          state: { events: state.map((e) => this.#clientEvent(e)) },
          ephemeral: { events: [] },
          account_data: { events: [] },
          unread_notifications: { notification_count: 0, highlight_count: 0 },
          summary: {},
        };
      } else if (now === "invite" && (since === null || before !== "invite")) {
        const stripped = ["m.room.create", "m.room.name", "m.room.join_rules"]
          .map((t) => room.state.get(`${t}\0`))
          .filter((e): e is FakeEvent => e !== undefined);
        const me = room.state.get(`m.room.member\0${userId}`);
        if (me) stripped.push(me);
        invite[room.id] = {
          invite_state: {
            events: stripped.map((e) => ({ type: e.type, state_key: e.state_key, sender: e.sender, content: e.content })),
          },
        };
      } else if ((now === "leave" || now === "ban") && since !== null && before === "join") {
        leave[room.id] = {
          timeline: { events: newEvents.map((e) => this.#clientEvent(e)), limited: false },
          state: { events: [] },
        };
      }
    }
    const accountData: unknown[] = [];
    if (since === null) {
      for (const [k, content] of this.#accountData) {
        const [u, type] = k.split("\0");
        if (u === userId) accountData.push({ type, content });
      }
    }
    return {
      next_batch: `s${this.#pos}`,
      rooms: { join, invite, leave, knock: {} },
      account_data: { events: accountData },
      presence: { events: [] },
      to_device: { events: [] },
      device_lists: { changed: [], left: [] },
      device_one_time_keys_count: {},
    };
  }

  #hasNews(userId: string, since: number): boolean {
    for (let i = this.#timeline.length - 1; i >= 0; i--) {
      const s = this.#timeline[i] as Stored;
      if (s.pos <= since) return false;
      const m = this.membership(s.event.room_id, userId);
      if (m === "join" || m === "invite" || s.event.state_key === userId) return true;
    }
    return false;
  }

  // ── HTTP ─────────────────────────────────────────────────────────────────────────────────────

  #json(res: ServerResponse, status: number, body: unknown): void {
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  #log(entry: RequestLog): void {
    this.requests.push(entry);
    for (const w of [...this.#requestWatchers]) {
      if (w.pred(entry)) {
        this.#requestWatchers.delete(w);
        w.resolve(entry);
      }
    }
  }

  async #body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const path = url.pathname;
    const body = method === "GET" ? {} : await this.#body(req);
    const reply = (status: number, json: unknown, userId?: string) => {
      this.#json(res, status, json);
      this.#log({ method, path, status, at: Date.now(), ...(userId ? { userId } : {}) });
    };

    const limit = this.#rateLimits.find((r) => r.remaining > 0 && r.match(method, path));
    if (limit) {
      limit.remaining--;
      return reply(429, { errcode: "M_LIMIT_EXCEEDED", error: "Too many requests", retry_after_ms: limit.retryAfterMs });
    }

    if (path === "/_matrix/client/versions") {
      return reply(200, { versions: ["r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"], unstable_features: {} });
    }
    const m = /^\/_matrix\/client\/(?:v3|r0|v1)(\/.*)$/.exec(path);
    if (!m) {
      this.unhandled.push(`${method} ${path}`);
      return reply(404, { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
    }
    const route = (m[1] as string).split("/").map((p) => decodeURIComponent(p));
    const r = route.slice(1); // drop the leading ""

    if (r[0] === "login") {
      if (method === "GET") return reply(200, { flows: [{ type: "m.login.password" }] });
      const ident = body.identifier as { type?: string; user?: string } | undefined;
      const user = ident?.user ?? (body.user as string | undefined) ?? "";
      const userId = user.startsWith("@") ? user : `@${user}:${this.serverName}`;
      if (body.type !== "m.login.password" || this.#passwords.get(userId) !== body.password) {
        return reply(403, { errcode: "M_FORBIDDEN", error: "Invalid username or password" });
      }
      const token = this.addUser(userId);
      return reply(200, { user_id: userId, access_token: token, device_id: `DEV${++this.#seq}`, home_server: this.serverName });
    }

    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : (url.searchParams.get("access_token") ?? undefined);
    const userId = token ? this.#tokens.get(token) : undefined;
    if (!userId)
      return reply(401, { errcode: token ? "M_UNKNOWN_TOKEN" : "M_MISSING_TOKEN", error: "Unrecognised access token" });

    if (r[0] === "account" && r[1] === "whoami") return reply(200, { user_id: userId, device_id: "BOTDEVICE" }, userId);
    if (r[0] === "pushrules")
      return reply(200, { global: { override: [], content: [], room: [], sender: [], underride: [] } }, userId);
    if (r[0] === "capabilities") {
      return reply(
        200,
        {
          capabilities: {
            "m.change_password": { enabled: false },
            "m.room_versions": { default: "10", available: { "10": "stable" } },
          },
        },
        userId,
      );
    }
    if (r[0] === "user" && r[2] === "filter") {
      if (method === "POST") {
        const id = `f${++this.#seq}`;
        this.#filters.set(id, body);
        return reply(200, { filter_id: id }, userId);
      }
      const f = this.#filters.get(r[3] ?? "");
      return f ? reply(200, f, userId) : reply(404, { errcode: "M_NOT_FOUND", error: "No such filter" }, userId);
    }
    if (r[0] === "user" && r[2] === "account_data") {
      const content = this.#accountData.get(`${r[1]}\0${r[3]}`);
      if (method === "PUT") {
        this.#accountData.set(`${r[1]}\0${r[3]}`, body);
        return reply(200, {}, userId);
      }
      return content
        ? reply(200, content, userId)
        : reply(404, { errcode: "M_NOT_FOUND", error: "Account data not found" }, userId);
    }
    if (r[0] === "sync") return this.#handleSync(url, res, userId, reply);
    if (r[0] === "directory" && r[1] === "room") {
      const roomId = this.#aliases.get(r[2] ?? "");
      return roomId
        ? reply(200, { room_id: roomId, servers: [this.serverName] }, userId)
        : reply(404, { errcode: "M_NOT_FOUND", error: `Room alias ${r[2]} not found` }, userId);
    }
    if (r[0] === "join" || (r[0] === "rooms" && r[2] === "join")) {
      const target = (r[0] === "join" ? r[1] : r[1]) ?? "";
      const roomId = target.startsWith("#") ? this.#aliases.get(target) : target;
      const room = roomId ? this.#rooms.get(roomId) : undefined;
      if (!room || !roomId) return reply(404, { errcode: "M_NOT_FOUND", error: `No known servers for ${target}` }, userId);
      const m0 = this.membership(roomId, userId);
      if (m0 !== "join") {
        if (m0 !== "invite" && !room.public)
          return reply(403, { errcode: "M_FORBIDDEN", error: "You are not invited to this room." }, userId);
        this.join(roomId, userId);
      }
      return reply(200, { room_id: roomId }, userId);
    }
    if (r[0] === "rooms") {
      const roomId = r[1] ?? "";
      const room = this.#rooms.get(roomId);
      if (!room) return reply(404, { errcode: "M_NOT_FOUND", error: "Unknown room" }, userId);
      if (r[2] === "send" && method === "PUT") {
        const key = `${token}|${r[4]}`;
        const known = this.#txns.get(key);
        if (known) return reply(200, { event_id: known }, userId);
        if (!this.#isJoined(roomId, userId))
          return reply(403, { errcode: "M_FORBIDDEN", error: `User ${userId} not in room ${roomId}` }, userId);
        const id = this.#emit(roomId, userId, r[3] ?? "m.room.message", body);
        this.#txns.set(key, id);
        const sent = this.#timeline[this.#timeline.length - 1]?.event as FakeEvent;
        for (const w of [...this.#sentWatchers]) {
          if (w.pred(sent)) {
            this.#sentWatchers.delete(w);
            w.resolve(sent);
          }
        }
        return reply(200, { event_id: id }, userId);
      }
      const member = this.membership(roomId, userId);
      if (member !== "join") return reply(403, { errcode: "M_FORBIDDEN", error: `User ${userId} not in room ${roomId}` }, userId);
      if (r[2] === "joined_members") {
        const joined: Record<string, unknown> = {};
        for (const e of room.state.values()) {
          if (e.type === "m.room.member" && e.content.membership === "join" && e.state_key)
            joined[e.state_key] = { display_name: null, avatar_url: null };
        }
        return reply(200, { joined }, userId);
      }
      if (r[2] === "state" && r[3] === undefined)
        return reply(
          200,
          [...room.state.values()].map((e) => this.#clientEvent(e)),
          userId,
        );
      if (r[2] === "state") {
        const e = room.state.get(`${r[3]}\0${r[4] ?? ""}`);
        return e ? reply(200, e.content, userId) : reply(404, { errcode: "M_NOT_FOUND", error: "Event not found" }, userId);
      }
    }
    this.unhandled.push(`${method} ${path}`);
    return reply(404, { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" }, userId);
  }

  async #handleSync(
    url: URL,
    res: ServerResponse,
    userId: string,
    reply: (s: number, j: unknown, u?: string) => void,
  ): Promise<void> {
    if (this.#swallowSync) {
      this.#log({ method: "GET", path: "/sync (swallowed)", status: 0, at: Date.now(), userId });
      return;
    }
    const sinceRaw = url.searchParams.get("since");
    const since = sinceRaw ? Number(sinceRaw.replace(/^s/, "")) : null;
    if (since !== null && !(since >= 0 && since <= this.#pos)) {
      return reply(400, { errcode: "M_INVALID_PARAM", error: `bad since token ${sinceRaw}` }, userId);
    }
    let limit = 20;
    const filter = url.searchParams.get("filter");
    if (filter?.startsWith("{")) {
      const def = JSON.parse(filter) as { room?: { timeline?: { limit?: number } } };
      limit = def.room?.timeline?.limit ?? limit;
    } else if (filter && this.#filters.has(filter)) {
      const def = this.#filters.get(filter) as { room?: { timeline?: { limit?: number } } };
      limit = def.room?.timeline?.limit ?? limit;
    }
    const timeout = Math.min(Number(url.searchParams.get("timeout") ?? "0") || 0, 60_000);
    if (since !== null && timeout > 0 && !this.#hasNews(userId, since)) {
      await new Promise<void>((resolve) => {
        const w: Waiter = {
          userId,
          since,
          wake: () => {
            if (!this.#hasNews(userId, since) && !res.destroyed && this.#server.listening) return;
            this.#waiters.delete(w);
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          this.#waiters.delete(w);
          resolve();
        }, timeout);
        this.#waiters.add(w);
        res.on("close", () => w.wake());
        for (const parked of this.#parkWatchers) parked();
        this.#parkWatchers.clear();
      });
      if (res.destroyed) return;
    }
    reply(200, this.#sync(userId, since, limit), userId);
  }
}
