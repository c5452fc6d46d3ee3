import type { ShaAnswer } from "../charts/answer/types.ts";
import type { Message } from "../core/message.ts";
import type { Store } from "../store/store.ts";

/** Who asked to be told, and where: the message that asked carries all of it. */
export type Asker = Pick<Message, "platform" | "room" | "userId" | "displayName" | "thread">;

/** "Tell this room when <version> of <chart> is published", with everyone who asked there. */
export interface Waiter {
  chart: string;
  version: string;
  chartCommit: string;
  commit: string;
  platform: string;
  room: string;
  thread: string | null;
  /** Platform ids of everyone who asked, in order. */
  who: string[];
  /** Their names as shown (display name, else id), in the same order. */
  names: string[];
  /** Display name of the last asker (kept for readers of older records). */
  by: string;
  at: string;
  mergedAt: string;
  /** ISO time after which the waiter is dropped unsent. */
  expiresAt: string;
}

const WAITER_PREFIX = "waiter:";

/**
 * Registers "tell this room when <version> is published": one store entry per version and room,
 * gathering everyone who asked; kept for `ttlMs` (notify.waiterTtl). Returns the store key.
 */
export async function addWaiter(store: Store, now: () => Date, a: ShaAnswer, who: Asker, ttlMs: number): Promise<string> {
  const key = `${WAITER_PREFIX}${a.chart}:${a.version}:${who.platform}:${who.room}`;
  const at = now();
  await store.update<Waiter>(
    key,
    (cur) => {
      const name = who.displayName ?? who.userId;
      const known = cur?.who.indexOf(who.userId) ?? -1;
      const ids = known >= 0 ? (cur?.who ?? []) : [...(cur?.who ?? []), who.userId];
      const names = known >= 0 ? (cur?.names ?? []) : [...(cur?.names ?? cur?.who ?? []), name];
      return {
        chart: a.chart,
        version: a.version,
        chartCommit: a.chartCommit,
        commit: a.commit,
        platform: who.platform,
        room: who.room,
        thread: who.thread ?? cur?.thread ?? null,
        who: ids,
        names,
        by: name,
        at: at.toISOString(),
        mergedAt: a.mergedAt,
        expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
      };
    },
    ttlMs,
  );
  return key;
}

/** The live waiters of `chart`; expired ones (by the injected clock) are deleted on the way. */
export async function waitersOf(store: Store, chart: string, now: Date): Promise<Array<[string, Waiter]>> {
  const out: Array<[string, Waiter]> = [];
  for await (const [key, w] of store.entries<Waiter>(`${WAITER_PREFIX}${chart}:`)) {
    if (w.expiresAt && Date.parse(w.expiresAt) <= now.getTime()) await store.delete(key);
    else out.push([key, w]);
  }
  return out;
}

/** Whether a published entry is what the waiter waits for: the same version, or the same chart commit. */
export function waiterMatches(w: Waiter, version: string, sha: string | null): boolean {
  if (w.version === version) return true;
  return sha !== null && sha.length >= 7 && w.chartCommit.startsWith(sha);
}
