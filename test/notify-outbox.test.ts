import { describe, expect, it, vi } from "vitest";
import { para, type Reply } from "../src/core/reply.ts";
import { Metrics } from "../src/metrics.ts";
import { Outbox, type Send } from "../src/notify/outbox.ts";
import type { Target } from "../src/notify/subscriptions.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { silentLogger } from "./helpers/log.ts";

const reply = (text: string): Reply => ({ ok: true, blocks: [para(text)] });
const room: Target = { platform: "test", room: "r1" };

function outbox(store: Store, metrics = new Metrics(), attempts = 3): Outbox {
  return new Outbox({ store, log: silentLogger(), metrics, attempts, retryDelayMs: 1, lockMs: 60_000, scanMs: 60_000 });
}

/** A send that records what the platform acknowledged. */
function recorder(): { send: Send; said: Array<[string, string]> } {
  const said: Array<[string, string]> = [];
  return {
    said,
    send: async (t, r) => {
      said.push([`${t.platform}:${t.room}${t.thread ? `/${t.thread}` : ""}`, JSON.stringify(r.blocks)]);
    },
  };
}

async function metricValue(m: Metrics, name: string, label?: string): Promise<number> {
  const body = (await m.expose()).body;
  const line = body.split("\n").find((l) => l.startsWith(name) && (!label || l.includes(label)));
  return line ? Number(line.split(" ").pop()) : Number.NaN;
}

describe("the notification outbox", () => {
  it("sends each notification once per room, also when queued again, and keeps the gauge real", async () => {
    const store = await openStore("memory", ".");
    const m = new Metrics();
    const o = outbox(store, m);
    const { send, said } = recorder();
    expect(await o.enqueue("n1", [room, { platform: "test", room: "r2", thread: "t9" }], reply("hello"))).toBe(2);
    expect(await metricValue(m, "binderbot_notification_outbox_size")).toBe(2);
    await o.start(send);
    await vi.waitFor(() => expect(said).toHaveLength(2));
    await o.drain();
    expect(said.map(([r]) => r).sort()).toEqual(["test:r1", "test:r2/t9"]);
    expect(await o.enqueue("n1", [room], reply("hello"))).toBe(0);
    await o.drain();
    expect(said).toHaveLength(2);
    expect(await metricValue(m, "binderbot_notification_outbox_size")).toBe(0);
    expect(await metricValue(m, "binderbot_notifications_total", 'outcome="sent"')).toBe(2);
    o.stop();
  });

  it("an entry written before a crash is sent after the restart, exactly once", async () => {
    const store = await openStore("memory", ".");
    const before = outbox(store); // never started: the process died between the write and the send
    await before.enqueue("n2", [room], reply("after the crash"));
    const after = outbox(store);
    const { send, said } = recorder();
    await after.start(send);
    await vi.waitFor(() => expect(said).toHaveLength(1));
    await after.scan();
    await after.drain();
    expect(said).toHaveLength(1);
    after.stop();
  });

  it("retries a failing send with backoff, then delivers", async () => {
    const store = await openStore("memory", ".");
    const m = new Metrics();
    const o = outbox(store, m, 5);
    let tries = 0;
    const said: string[] = [];
    await o.start(async (_t, r) => {
      if (++tries < 3) throw new Error("platform says 503");
      said.push(JSON.stringify(r.blocks));
    });
    await o.enqueue("n3", [room], reply("third time"));
    await vi.waitFor(() => expect(said).toHaveLength(1));
    expect(tries).toBe(3);
    expect(await metricValue(m, "binderbot_notifications_total", 'outcome="retry"')).toBe(2);
    o.stop();
  });

  it("after the last try it is logged, counted as failed and kept for an operator, never silently dropped", async () => {
    const store = await openStore("memory", ".");
    const m = new Metrics();
    const o = outbox(store, m, 2);
    await o.start(async () => {
      throw new Error("channel_not_found");
    });
    await o.enqueue("n4", [room], reply("nobody hears this"));
    await vi.waitFor(async () => expect(await metricValue(m, "binderbot_notifications_total", 'outcome="failed"')).toBe(1));
    const kept = [];
    for await (const [, e] of store.entries<{ lastError: string; attempts: number }>("notify:failed:")) kept.push(e);
    expect(kept).toMatchObject([{ lastError: "channel_not_found", attempts: 2 }]);
    expect(o.size).toBe(0);
    // given up is final: queuing it again does not send it again
    expect(await o.enqueue("n4", [room], reply("nobody hears this"))).toBe(0);
    o.stop();
  });

  it("two replicas on one store send an entry once", async () => {
    const store = await openStore("memory", ".");
    const a = outbox(store);
    const b = outbox(store);
    const { send, said } = recorder();
    await a.enqueue("n5", [room], reply("once"));
    await Promise.all([a.start(send), b.start(send)]);
    await vi.waitFor(() => expect(said).toHaveLength(1));
    await Promise.all([a.drain(), b.drain(), b.scan()]);
    expect(said).toHaveLength(1);
    a.stop();
    b.stop();
  });
});
