import type { Store } from "../store/store.ts";

/** A `--force` retry waiting for `!binder yes` from the same person in the same room. */
export interface PendingRetry {
  runId: string;
  scope: "failed" | "all";
  verdict: string | null;
  signature: string | null;
  /** ISO time after which `yes` no longer confirms it. */
  until: string;
}

const key = (who: string, room: string) => `retry:confirm:${who}\u0000${room}`;

/**
 * Confirmations of forced retries, in the store (so any replica can take the `yes`). Keyed by who
 * asked and where: a `yes` from anyone else, or in another room, confirms nothing.
 */
export class Confirmations {
  constructor(private readonly store: Store) {}

  async ask(who: string, room: string, pending: PendingRetry, ttlMs: number): Promise<void> {
    await this.store.set(key(who, room), pending, ttlMs);
  }

  /** Takes the pending retry of this person in this room, if one is still valid (once: a second `yes` finds nothing). */
  async take(who: string, room: string, now: Date): Promise<PendingRetry | null> {
    let taken: PendingRetry | null = null;
    await this.store.update<PendingRetry>(key(who, room), (cur) => {
      if (cur && Date.parse(cur.until) > now.getTime()) taken = cur;
      return undefined;
    });
    return taken;
  }
}
