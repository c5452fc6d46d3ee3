import type { Logger } from "pino";
import type { Message } from "../../src/core/message.ts";
import type { Store } from "../../src/store/store.ts";
import { Dedupe } from "../common/dedupe.ts";
import { slackErrorLine } from "./log.ts";
import { normaliseIncoming } from "./render.ts";

/** The fields of a Slack `message` / `app_mention` event the bot reads. */
export interface SlackMessageEvent {
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

/** Why an event was dropped on purpose. */
export type DropReason = "duplicate" | "ignored";

/** Message subtypes that are a person saying something; every other subtype (edits, joins, bots) is ignored. */
const SPOKEN_SUBTYPES = new Set([undefined, "thread_broadcast", "file_share", "me_message"]);

/**
 * Slack events → Messages: only what a person said (not bots, not the bot itself, not edits or joins),
 * each once: Slack re-delivers an event whose ack was late, and a mention arrives twice (`message` and
 * `app_mention`). Mentions of the bot are taken out of the text and make the message addressed, as do
 * direct messages.
 */
export class SlackInbound {
  readonly #log: Logger;
  readonly #dedupe: Dedupe;
  /** Event id → the dedupe ids claimed for it, until answered or given up. */
  readonly #claims = new Map<string, readonly string[]>();
  readonly #onDrop: ((why: DropReason, eventId: string) => void) | undefined;

  constructor(o: {
    log: Logger;
    store?: Store | undefined;
    now: () => number;
    onDrop?: ((why: DropReason, eventId: string) => void) | undefined;
  }) {
    this.#log = o.log;
    this.#onDrop = o.onDrop;
    this.#dedupe = new Dedupe({
      ...(o.store ? { store: o.store } : {}),
      prefix: "dedupe:slack:",
      ttlMs: 60 * 60 * 1000,
      now: o.now,
      onStoreError: (err) => this.#log.warn({ err: slackErrorLine(err) }, "dedupe store failed; deduplicating in memory only"),
    });
  }

  /** The reply to this event was sent (or none was due): a redelivery is a duplicate, here and after a restart. */
  async answered(eventId: string): Promise<void> {
    for (const id of this.#take(eventId)) await this.#dedupe.done(id);
  }

  /** Answering failed before anything was said: a redelivery may try again. */
  async unanswered(eventId: string): Promise<void> {
    for (const id of this.#take(eventId)) await this.#dedupe.release(id);
  }

  /** Shutdown: leases of unfinished answers lapse, so a redelivery to the next process is answered. */
  stop(): void {
    this.#dedupe.stop();
  }

  #take(eventId: string): readonly string[] {
    const ids = this.#claims.get(eventId) ?? [];
    this.#claims.delete(eventId);
    return ids;
  }

  #duplicate(eventId: string): null {
    this.#log.debug({ eventId }, "slack duplicate event dropped");
    this.#onDrop?.("duplicate", eventId);
    return null;
  }

  /** The Message in an event, or null for one dropped on purpose (told to onDrop). */
  async toMessage(
    kind: "message" | "app_mention",
    event: SlackMessageEvent,
    body: { event_id?: string },
    botUserId: string | undefined,
  ): Promise<Message | null> {
    const eventId = body.event_id ?? `${event.channel}:${event.ts}`;
    const spoken =
      !event.bot_id && event.user && event.user !== botUserId && SPOKEN_SUBTYPES.has(event.subtype) && event.channel && event.ts;
    if (!spoken || !event.user || !event.channel || !event.ts) {
      this.#onDrop?.("ignored", eventId); // bots, ourselves, edits, joins
      return null;
    }
    // Slack re-delivers an event (same event_id) when an ack was late; a mention also arrives twice
    // (message + app_mention, different event ids, same channel and ts).
    // Both claims stay "in progress" until the reply was sent (answered) or given up (unanswered).
    const ids = [`ev:${eventId}`, `ts:${event.channel}:${event.ts}`] as const;
    if (!(await this.#dedupe.claim(ids[0]))) return this.#duplicate(eventId);
    if (!(await this.#dedupe.claim(ids[1]))) {
      await this.#dedupe.done(ids[0]); // the same message under its other event id: this delivery is settled
      return this.#duplicate(eventId);
    }
    this.#claims.set(eventId, ids);
    const { text, mentioned } = normaliseIncoming(event.text ?? "", botUserId);
    return {
      platform: "slack",
      room: event.channel,
      userId: event.user,
      text,
      eventId,
      ...(event.thread_ts ? { thread: event.thread_ts } : {}),
      addressed: kind === "app_mention" || event.channel_type === "im" || mentioned,
    };
  }
}
