import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { Method } from "matrix-js-sdk";
import { renderMarkdown } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";
import { retry } from "../common/backoff.ts";
import type { MatrixContext } from "./connection.ts";
import { editContent, noticeContent } from "./render.ts";

/**
 * Posting replies as m.notice. Every attempt of one send uses the same transaction id, so the
 * homeserver deduplicates a retried PUT; 429s are waited out (retry_after_ms); the same text is
 * not posted twice in a row to one conversation (room, thread, event answered) within the repeat window.
 */
export class Outbound {
  readonly #ctx: MatrixContext;
  readonly #now: () => number;
  readonly #repeatWindowMs: number;
  readonly #attempts: number;
  readonly #lastSent = new Map<string, { text: string; at: number; eventId?: string }>();
  #txnSeq = 0;

  constructor(
    ctx: MatrixContext,
    o: { now: () => number; repeatWindowMs?: number | undefined; sendAttempts?: number | undefined },
  ) {
    this.#ctx = ctx;
    this.#now = o.now;
    this.#repeatWindowMs = o.repeatWindowMs ?? 30_000;
    this.#attempts = o.sendAttempts ?? 5;
  }

  /** Posts a reply; returns its event id (the earlier one's, when the same text was not posted twice). */
  async post(roomId: string, reply: Reply, rel: { inReplyTo?: string; thread?: string }): Promise<string> {
    const content = noticeContent(reply, rel);
    const text = renderMarkdown(reply);
    // "Twice in a row" is per conversation: the same room and thread, answering the same event (or
    // nothing, for notifications). An answer to another person's question is never suppressed.
    const key = `${roomId}\u0000${rel.thread ?? ""}\u0000${rel.inReplyTo ?? ""}`;
    const last = this.#lastSent.get(key);
    const now = this.#now();
    if (last && last.text === text && now - last.at < this.#repeatWindowMs) {
      this.#ctx.log.info({ roomId }, `${this.#ctx.platform}: not posting the same text twice in a row`);
      return last.eventId ?? "";
    }
    const sent: { text: string; at: number; eventId?: string } = { text, at: now };
    this.#lastSent.set(key, sent);
    if (this.#lastSent.size > 1000) this.#lastSent.delete(this.#lastSent.keys().next().value as string);
    try {
      sent.eventId = await this.#put(roomId, content);
      return sent.eventId;
    } catch (err) {
      this.#lastSent.delete(key);
      throw err;
    }
  }

  /** Edits a notice the bot posted (m.replace); returns the edit's event id. */
  edit(roomId: string, eventId: string, reply: Reply): Promise<string> {
    return this.#put(roomId, editContent(reply, eventId));
  }

  async #put(roomId: string, content: Record<string, unknown>): Promise<string> {
    const api = this.#ctx.api();
    // One transaction id for every attempt: the homeserver deduplicates a retried PUT.
    const txnId = `bb${this.#now().toString(36)}.${++this.#txnSeq}`;
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    const res = await retry(
      () => api.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, content),
      this.#ctx.retry(this.#attempts),
    );
    return res.event_id;
  }
}
