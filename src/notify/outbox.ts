import type { Logger } from "pino";
import { errorLine } from "../core/one-line.ts";
import type { Reply } from "../core/reply.ts";
import type { Metrics } from "../metrics.ts";
import type { Store } from "../store/store.ts";
import type { Target } from "./subscriptions.ts";

/** Says a reply in a room (and thread); resolves once the platform acknowledged it. */
export type Send = (target: Target, reply: Reply) => Promise<void>;

/** One notification for one room, written to the store before it is sent. */
export interface OutboxEntry {
  /** Dedupe key: the notification's id and the room. */
  key: string;
  target: Target;
  reply: Reply;
  /** Failed tries so far. */
  attempts: number;
  /** Not before this (ms since epoch): the backoff after a failed try. */
  nextAt: number;
  createdAt: string;
  lastError?: string;
}

export interface OutboxOptions {
  store: Store;
  log: Logger;
  metrics?: Metrics;
  /** Tries before giving up. */
  attempts: number;
  /** First retry delay; doubles each try, capped at 10 minutes. */
  retryDelayMs: number;
  /** How long one replica may hold an entry it is sending before another may take it. */
  lockMs: number;
  /** How often the store is scanned for entries left by a crash or another replica. */
  scanMs: number;
}

const OUTBOX = "notify:outbox:";
const SENT = "notify:sent:";
const SENDING = "notify:sending:";
const DEAD = "notify:failed:";
/** How long "this notification was delivered to this room" is remembered. */
const SENT_TTL_MS = 30 * 86_400_000;
const MAX_DELAY_MS = 10 * 60_000;

/**
 * Exactly-once delivery of unasked messages across crashes and replicas. A notification for a room
 * is written to the store before it is sent and removed after the platform acknowledged it (with a
 * "sent" mark under the same dedupe key, so the same notification is never queued again). A crash
 * between the write and the acknowledgement leaves the entry, and it is sent after the restart. A
 * replica claims an entry (SET NX PX on Redis) before sending it, so two replicas never both send it.
 * A failed send is retried with exponential backoff; after the last try it is logged at error,
 * counted in /metrics (binderbot_notifications_total{outcome="failed"}) and kept under
 * `notify:failed:` for an operator — never dropped in silence.
 */
export class Outbox {
  readonly #o: OutboxOptions;
  /** Entries this replica knows of: dedupe key → not before (ms). */
  readonly #pending = new Map<string, number>();
  readonly #owner = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  #send: Send | null = null;
  #timer: NodeJS.Timeout | null = null;
  #scanTimer: NodeJS.Timeout | null = null;
  #draining: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(opts: OutboxOptions) {
    this.#o = opts;
  }

  /** Starts delivering through `send`: what a crash or another replica left first, then as queued. */
  async start(send: Send): Promise<void> {
    this.#send = send;
    this.#stopped = false;
    await this.scan();
    const tick = () => {
      this.#scanTimer = setTimeout(() => {
        void this.scan()
          .catch((e) => this.#o.log.warn({ err: errorLine(e) }, "outbox scan failed"))
          .finally(() => {
            if (!this.#stopped) tick();
          });
      }, this.#o.scanMs);
      this.#scanTimer.unref();
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#scanTimer) clearTimeout(this.#scanTimer);
    this.#timer = null;
    this.#scanTimer = null;
  }

  /** Entries waiting (as far as this replica knows). */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Queues notification `id` for each target, once: a target that already has it queued or
   * delivered is skipped. Resolves when the entries are in the store (not when they are sent).
   */
  async enqueue(id: string, targets: readonly Target[], reply: Reply): Promise<number> {
    let queued = 0;
    for (const target of targets) {
      const key = `${id}@${target.platform}:${target.room}${target.thread ? `/${target.thread}` : ""}`;
      if (await this.#o.store.get(SENT + key)) continue;
      let fresh = false;
      await this.#o.store.update<OutboxEntry>(OUTBOX + key, (cur) => {
        if (cur) return cur;
        fresh = true;
        const r: Reply = target.thread ? { ...reply, thread: target.thread } : reply;
        return { key, target, reply: r, attempts: 0, nextAt: 0, createdAt: new Date().toISOString() };
      });
      if (!fresh) continue;
      queued++;
      this.#pending.set(key, 0);
      this.#o.log.info({ notification: key }, "notification queued");
    }
    this.#gauge();
    if (queued) this.#kick(0);
    return queued;
  }

  /** Reads every queued entry from the store (after a restart; entries of a replica that died). */
  async scan(): Promise<void> {
    for await (const [, e] of this.#o.store.entries<OutboxEntry>(OUTBOX)) {
      if (!this.#pending.has(e.key)) this.#pending.set(e.key, e.nextAt);
    }
    this.#gauge();
    this.#kick(0);
  }

  /** Delivers what is due now; resolves when this pass is done (tests, shutdown). */
  drain(): Promise<void> {
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = (async () => {
      do {
        this.#again = false;
        const now = Date.now();
        const due = [...this.#pending].filter(([, at]) => at <= now).map(([k]) => k);
        for (const key of due) {
          if (this.#stopped) return;
          await this.#deliver(key).catch((e) => {
            this.#o.log.warn({ notification: key, err: errorLine(e) }, "outbox store error; will try again");
            this.#pending.set(key, Date.now() + this.#o.retryDelayMs);
          });
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#draining = null;
      this.#gauge();
      this.#armTimer();
    });
    return this.#draining;
  }

  async #deliver(key: string): Promise<void> {
    const { store, log, metrics } = this.#o;
    if (!this.#send) return;
    // One replica at a time: the claim expires, so an entry whose sender died is taken over.
    if (!(await store.claim(SENDING + key, this.#o.lockMs))) {
      this.#pending.set(key, Date.now() + this.#o.lockMs);
      return;
    }
    const entry = (await store.get(SENT + key)) ? undefined : await store.get<OutboxEntry>(OUTBOX + key);
    if (!entry) {
      // delivered by another replica (or before a crash): nothing to do
      this.#pending.delete(key);
      await store.delete(OUTBOX + key);
      return;
    }
    try {
      await this.#send(entry.target, entry.reply);
    } catch (e) {
      await this.#failed(entry, errorLine(e));
      return;
    }
    // Acknowledged: mark it sent before removing it, so no replica or restart sends it again.
    await store.set(SENT + key, this.#owner, SENT_TTL_MS);
    await store.delete(OUTBOX + key);
    this.#pending.delete(key);
    metrics?.notifications.inc({ outcome: "sent" });
    log.info({ notification: key }, "notification sent");
  }

  async #failed(entry: OutboxEntry, why: string): Promise<void> {
    const { store, log, metrics } = this.#o;
    const attempts = entry.attempts + 1;
    if (attempts >= this.#o.attempts) {
      log.error({ notification: entry.key, attempts, err: why }, "notification could not be delivered; given up");
      metrics?.notifications.inc({ outcome: "failed" });
      await store.set(DEAD + entry.key, { ...entry, attempts, lastError: why }, SENT_TTL_MS);
      await store.set(SENT + entry.key, "failed", SENT_TTL_MS);
      await store.delete(OUTBOX + entry.key);
      this.#pending.delete(entry.key);
      return;
    }
    const nextAt = Date.now() + Math.min(this.#o.retryDelayMs * 2 ** (attempts - 1), MAX_DELAY_MS);
    log.warn(
      { notification: entry.key, attempts, err: why, retryInMs: nextAt - Date.now() },
      "notification send failed; will retry",
    );
    metrics?.notifications.inc({ outcome: "retry" });
    await store.set(OUTBOX + entry.key, { ...entry, attempts, nextAt, lastError: why });
    await store.delete(SENDING + entry.key);
    this.#pending.set(entry.key, nextAt);
  }

  #kick(delayMs: number): void {
    if (this.#stopped || !this.#send) return;
    if (delayMs <= 0) {
      void this.drain();
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.drain(), delayMs);
    this.#timer.unref();
  }

  /** Wakes up for the earliest retry. */
  #armTimer(): void {
    if (this.#pending.size === 0 || this.#stopped) return;
    const next = Math.min(...this.#pending.values());
    this.#kick(Math.max(1, next - Date.now()));
  }

  #gauge(): void {
    this.#o.metrics?.outboxSize.set(this.#pending.size);
  }
}
