import type { Message } from "../core/message.ts";
import type { Store } from "../store/store.ts";
import type { ShaAnswer } from "./answer.ts";

/** Who asked to be told, and where: the message that asked carries all of it. */
export type Asker = Pick<Message, "platform" | "room" | "userId" | "displayName" | "thread">;

/** How long a waiter is kept. */
const WAITER_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Registers "tell this room when <version> is published" (the notifier comes with its own issue):
 * one store entry per version and room, gathering everyone who asked. Returns the store key.
 */
export async function addWaiter(store: Store, now: () => Date, a: ShaAnswer, who: Asker): Promise<string> {
  const key = `waiter:${a.chart}:${a.version}:${who.platform}:${who.room}`;
  await store.update<Record<string, unknown>>(
    key,
    (cur) => ({
      chart: a.chart,
      version: a.version,
      chartCommit: a.chartCommit,
      commit: a.commit,
      platform: who.platform,
      room: who.room,
      thread: who.thread ?? null,
      who: [...new Set([...((cur?.who as string[]) ?? []), who.userId])],
      by: who.displayName ?? who.userId,
      at: now().toISOString(),
      mergedAt: a.mergedAt,
    }),
    WAITER_TTL_MS,
  );
  return key;
}
