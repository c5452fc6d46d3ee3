import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { Method } from "matrix-js-sdk";
import { renderMarkdown } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";
import { retry } from "../common/backoff.ts";
import type { MatrixContext } from "./connection.ts";
import { noticeContent } from "./render.ts";

/**
 * Posting replies as m.notice. Every attempt of one send uses the same transaction id, so the
 * homeserver deduplicates a retried PUT; 429s are waited out (retry_after_ms); the same text is
 * not posted twice in a row to a room within the repeat window.
 */
export class Outbound {
  readonly #ctx: MatrixContext;
  readonly #now: () => number;
  readonly #repeatWindowMs: number;
  readonly #attempts: number;
  readonly #lastSent = new Map<string, { text: string; at: number }>();
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

  async post(roomId: string, reply: Reply, rel: { inReplyTo?: string; thread?: string }): Promise<void> {
    const content = noticeContent(reply, rel);
    const text = renderMarkdown(reply);
    const last = this.#lastSent.get(roomId);
    const now = this.#now();
    if (last && last.text === text && now - last.at < this.#repeatWindowMs) {
      this.#ctx.log.info({ roomId }, `${this.#ctx.platform}: not posting the same text twice in a row`);
      return;
    }
    this.#lastSent.set(roomId, { text, at: now });
    const api = this.#ctx.api();
    // One transaction id for every attempt: the homeserver deduplicates a retried PUT.
    const txnId = `bb${now.toString(36)}.${++this.#txnSeq}`;
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    try {
      await retry(() => api.http.authedRequest(Method.Put, path, undefined, content), this.#ctx.retry(this.#attempts));
    } catch (err) {
      this.#lastSent.delete(roomId);
      throw err;
    }
  }
}
