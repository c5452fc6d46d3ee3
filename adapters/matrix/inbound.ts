import type { MatrixEvent } from "matrix-js-sdk";
import type { Message } from "../../src/core/message.ts";
import type { Store } from "../../src/store/store.ts";
import { Dedupe } from "../common/dedupe.ts";
import type { MatrixContext } from "./connection.ts";
import { matrixErrorLine } from "./errors.ts";
import { withoutMention } from "./mention.ts";

type Relation = { rel_type?: string; event_id?: string };

/** A message someone typed, live and recent: worth answering unless it is a duplicate. */
export interface Spoken {
  roomId: string;
  eventId: string;
  sender: string;
  content: Record<string, unknown>;
  rel: Relation | undefined;
}

/**
 * Timeline events → Messages. Only what people type counts: never the bot's own messages, no notices
 * (what bots say: answering them makes bot loops), no edits, nothing from before the bot went live
 * or too old by the time it is seen. A message is addressed to the bot when it mentions the bot or is
 * in a direct chat; a message in a thread carries the thread.
 */
export class Inbound {
  readonly #ctx: MatrixContext;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #dedupe: Dedupe;
  readonly #memberCounts = new Map<string, number>();
  readonly #directRooms = new Set<string>();
  readonly #isTeamRoom: (roomId: string) => boolean;

  constructor(
    ctx: MatrixContext,
    o: {
      store: Store;
      now: () => number;
      maxCatchUpAgeMs?: number | undefined;
      /** Rooms the config names: team rooms, never taken for direct chats however few are in them. */
      isTeamRoom?: (roomId: string) => boolean;
    },
  ) {
    this.#ctx = ctx;
    this.#isTeamRoom = o.isTeamRoom ?? (() => false);
    this.#now = o.now;
    this.#maxAgeMs = o.maxCatchUpAgeMs ?? 15 * 60_000;
    this.#dedupe = new Dedupe({
      store: o.store,
      prefix: `dedupe:${ctx.platform}:`,
      ttlMs: 24 * 60 * 60 * 1000,
      now: o.now,
      onStoreError: (err) => ctx.log.warn({ err: matrixErrorLine(err) }, "dedupe store failed; continuing in memory"),
    });
  }

  /** A membership change in a room (its member count is asked again); true when it invites the bot. */
  membership(roomId: string, ev: MatrixEvent): boolean {
    this.#memberCounts.delete(roomId);
    if (ev.getStateKey() !== this.#ctx.userId || ev.getContent().membership !== "invite") return false;
    if (ev.getContent().is_direct) this.#directRooms.add(roomId);
    return true;
  }

  /** The message in a timeline event, or null when it is not one to answer. */
  spoken(roomId: string, ev: MatrixEvent, live: boolean): Spoken | null {
    if (ev.getType() !== "m.room.message" || ev.isState() || !live) return null;
    const sender = ev.getSender();
    const eventId = ev.getId();
    if (!sender || !eventId || sender === this.#ctx.userId) return null; // never answer ourselves
    const content = ev.getContent();
    // Only what people type: notices are what bots say (answering them makes bot loops); edits are not new questions.
    if (content.msgtype !== "m.text" || typeof content.body !== "string") return null;
    const rel = content["m.relates_to"] as Relation | undefined;
    if (rel?.rel_type === "m.replace") return null;
    const age = this.#now() - ev.getTs();
    if (age > this.#maxAgeMs) {
      this.#ctx.log.info({ eventId, roomId, ageMs: age }, `${this.#ctx.platform}: not answering a message this old`);
      return null;
    }
    return { roomId, eventId, sender, content, rel };
  }

  /** The Message for the command core; null for an event already claimed (here or by an earlier run). */
  async toMessage(s: Spoken): Promise<Message | null> {
    if (!(await this.#dedupe.claim(s.eventId))) {
      this.#ctx.log.debug({ eventId: s.eventId }, `${this.#ctx.platform}: duplicate event dropped`);
      return null;
    }
    const mentioned = this.#mentionsMe(s.content);
    const text = mentioned ? withoutMention(s.content, this.#ctx.userId) : (s.content.body as string);
    const addressed = mentioned || (await this.#isDirect(s.roomId));
    const thread = s.rel?.rel_type === "m.thread" && s.rel.event_id ? s.rel.event_id : undefined;
    return {
      platform: this.#ctx.platform,
      room: s.roomId,
      userId: s.sender,
      text,
      eventId: s.eventId,
      ...(thread ? { thread } : {}),
      ...(addressed ? { addressed: true } : {}),
    };
  }

  /** The reply to this event was sent (or none was due): a redelivery is a duplicate. */
  answered(eventId: string): Promise<void> {
    return this.#dedupe.done(eventId);
  }

  /** Answering this event failed: a redelivery (after a restart) may try again. */
  unanswered(eventId: string): Promise<void> {
    return this.#dedupe.release(eventId);
  }

  /** Shutdown: leases of unfinished answers lapse, so the next process answers them. */
  stop(): void {
    this.#dedupe.stop();
  }

  #mentionsMe(content: Record<string, unknown>): boolean {
    const me = this.#ctx.userId;
    const mentions = content["m.mentions"] as { user_ids?: unknown } | undefined;
    if (Array.isArray(mentions?.user_ids) && mentions.user_ids.includes(me)) return true;
    const html = typeof content.formatted_body === "string" ? content.formatted_body : "";
    return html.includes(`matrix.to/#/${me}`) || html.includes(`matrix.to/#/${encodeURIComponent(me)}`);
  }

  /**
   * A direct chat: marked so (m.direct, is_direct on the invite), or, for a room the config does not
   * name, just the bot and one person.
   */
  async #isDirect(roomId: string): Promise<boolean> {
    if (this.#directRooms.has(roomId)) return true;
    const direct = this.#ctx.client?.getAccountData("m.direct" as never)?.getContent() as Record<string, string[]> | undefined;
    if (direct && Object.values(direct).some((rooms) => Array.isArray(rooms) && rooms.includes(roomId))) return true;
    if (this.#isTeamRoom(roomId)) return false;
    let count = this.#memberCounts.get(roomId);
    if (count === undefined) {
      try {
        const res = await this.#ctx.api().getJoinedRoomMembers(roomId);
        count = Object.keys(res.joined ?? {}).length;
        this.#memberCounts.set(roomId, count);
      } catch {
        return false;
      }
    }
    return count === 2;
  }
}
