// Must come first: quiets the SDK's global logger before SDK modules bind it.
import "./sdk-logger.ts";

import type { MatrixEvent } from "matrix-js-sdk";
import type { Logger } from "pino";
import { type Adapter, type AdapterStatus, answering, type MessageHandler, type Posted } from "../../src/core/adapter.ts";
import type { Reply } from "../../src/core/reply.ts";
import { MatrixConnection } from "./connection.ts";
import { matrixErrorLine } from "./errors.ts";
import { Inbound, type Spoken } from "./inbound.ts";
import type { MatrixAdapterOptions } from "./options.ts";
import { Outbound } from "./outbound.ts";
import { Rooms } from "./rooms.ts";
import { sdkSinks } from "./sdk-logger.ts";

export { type MatrixAdapterOptions, type MatrixDeps, matrixOptions } from "./options.ts";

/**
 * Matrix through matrix-js-sdk's sync loop, as the Adapter port. The parts: connection.ts owns the
 * client (login, sync from the persisted token, reconnects, watchdog), rooms.ts the joins,
 * inbound.ts turns timeline events into Messages, outbound.ts posts the replies (stable
 * transaction ids, so a retried send is never posted twice). This class wires them to the bot.
 */
export class MatrixAdapter implements Adapter {
  readonly platform: string;
  readonly #metrics: MatrixAdapterOptions["metrics"];
  readonly #log: Logger;
  readonly #conn: MatrixConnection;
  readonly #inbound: Inbound;
  readonly #rooms: Rooms;
  readonly #outbound: Outbound;
  #handler: MessageHandler | null = null;
  #abandoned = false;

  constructor(opts: MatrixAdapterOptions) {
    this.platform = opts.platform ?? "matrix";
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    const now = opts.now ?? Date.now;
    this.#conn = new MatrixConnection({ ...opts, platform: this.platform }, (ev, live) => this.#onEvent(ev, live));
    this.#inbound = new Inbound(this.#conn, {
      store: opts.store,
      now,
      maxCatchUpAgeMs: opts.maxCatchUpAgeMs,
      isTeamRoom: (roomId) => this.#rooms.joined.includes(roomId),
    });
    this.#rooms = new Rooms(this.#conn, { rooms: opts.rooms, autojoin: opts.autojoin, roomAlias: opts.roomAlias });
    this.#outbound = new Outbound(this.#conn, { now, repeatWindowMs: opts.repeatWindowMs, sendAttempts: opts.sendAttempts });
    if (!opts.accessToken && !opts.password)
      throw new Error(`${this.platform}: set accessToken (or password) for the bot account`);
    if (!opts.accessToken && opts.password && !opts.userId) throw new Error(`${this.platform}: password login needs userId`);
  }

  /** The bot's own user id (after start). */
  get userId(): string {
    return this.#conn.userId;
  }

  /** Room ids joined at start (configured rooms, aliases resolved). */
  get rooms(): string[] {
    return this.#rooms.joined;
  }

  async start(handler: MessageHandler): Promise<void> {
    this.#handler = handler;
    sdkSinks.add(this.#log);
    await this.#conn.login();
    await this.#rooms.joinConfigured();
    await this.#conn.open();
    this.#log.info({ userId: this.userId, rooms: this.rooms, resumed: this.#conn.resumed }, `${this.platform} connected`);
  }

  /** Resolves an alias through the directory (cached); room ids pass through. */
  resolveRoom(room: string): Promise<string> {
    return this.#rooms.resolve(room);
  }

  async send(room: string, reply: Reply): Promise<Posted> {
    const roomId = await this.resolveRoom(room);
    const id = await this.#outbound.post(roomId, reply, reply.thread ? { thread: reply.thread } : {});
    return { room: roomId, id, ...(reply.thread ? { thread: reply.thread } : {}) };
  }

  /** Edits a posted notice in place (an m.replace event); the edit keeps the original's id for later edits. */
  async update(posted: Posted, reply: Reply): Promise<Posted> {
    await this.#outbound.edit(posted.room, posted.id, reply);
    return posted;
  }

  abandon(): void {
    this.#abandoned = true;
  }

  async stop(): Promise<void> {
    this.#inbound.stop();
    await this.#conn.stop();
    sdkSinks.delete(this.#log);
  }

  status(): AdapterStatus {
    return this.#conn.status();
  }

  #onEvent(ev: MatrixEvent, live: boolean): void {
    const roomId = ev.getRoomId();
    if (!roomId) return;
    if (ev.getType() === "m.room.member") {
      if (this.#inbound.membership(roomId, ev)) this.#rooms.invited(roomId, ev.getSender());
      return;
    }
    const spoken = this.#inbound.spoken(roomId, ev, live);
    if (spoken) this.#conn.track(this.#answer(spoken));
  }

  /**
   * Asks the bot and posts its reply in the room (in the thread, if asked in one), as a reply to the
   * question. The event counts as handled only once the reply was sent: a process that dies before
   * that answers the redelivered event after its restart.
   */
  async #answer(s: Spoken): Promise<"abandoned" | undefined> {
    const msg = await this.#inbound.toMessage(s).catch((err: unknown) => {
      this.#log.error(
        { eventId: s.eventId, roomId: s.roomId, err: matrixErrorLine(err) },
        `${this.platform}: could not read a message`,
      );
      return null;
    });
    if (!msg) return;
    const { outlet, done } = answering(this);
    try {
      const handler = this.#handler;
      const reply = handler ? await handler(msg, outlet) : null;
      if (this.#abandoned) return "abandoned"; // past the shutdown deadline: the next process answers
      if (reply) {
        const thread = reply.thread ?? msg.thread;
        await this.#outbound.post(s.roomId, reply, { inReplyTo: s.eventId, ...(thread ? { thread } : {}) });
      }
      await this.#inbound.answered(s.eventId);
    } catch (err) {
      await this.#inbound.unanswered(s.eventId);
      this.#metrics?.error(this.platform, "send");
      this.#log.error({ eventId: s.eventId, roomId: s.roomId, err: matrixErrorLine(err) }, `${this.platform}: could not answer`);
    } finally {
      done();
    }
  }
}
