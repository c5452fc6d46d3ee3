import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dedupe } from "../adapters/common/dedupe.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { haveRedis, type RedisServer, startRedis } from "./helpers/redis.ts";
import { skipWhy } from "./helpers/skip.ts";

describe("Dedupe", () => {
  it("claims an id once; a repeat is refused", async () => {
    const d = new Dedupe();
    expect(await d.claim("Ev1")).toBe(true);
    expect(await d.claim("Ev1")).toBe(false);
    expect(await d.claim("Ev2")).toBe(true);
  });

  it("concurrent claims of one id: exactly one wins", async () => {
    const d = new Dedupe({ store: await openStore("memory", ".") });
    const results = await Promise.all([d.claim("Ev1"), d.claim("Ev1"), d.claim("Ev1")]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("forgets an id after the TTL (injectable clock)", async () => {
    let t = 1000;
    const d = new Dedupe({ ttlMs: 100, now: () => t });
    expect(await d.claim("a")).toBe(true);
    t += 99;
    expect(await d.claim("a")).toBe(false);
    t += 2;
    expect(await d.claim("a")).toBe(true);
  });

  it("is bounded: the least recently seen id is forgotten first", async () => {
    const d = new Dedupe({ max: 2 });
    await d.claim("a");
    await d.claim("b");
    expect(await d.claim("a")).toBe(false); // touches a: b is now the oldest
    await d.claim("c");
    expect(d.size).toBe(2);
    expect(d.has("b")).toBe(false);
    expect(d.has("a")).toBe(true);
    expect(await d.claim("b")).toBe(true);
  });

  it("with a store, a restarted process (new Dedupe) still refuses an id answered before", async () => {
    const store = await openStore("memory", ".");
    const before = new Dedupe({ store, prefix: "dedupe:slack:" });
    expect(await before.claim("Ev9")).toBe(true);
    expect(await store.get("dedupe:slack:Ev9")).toMatchObject({ state: "working" });
    await before.done("Ev9");
    const after = new Dedupe({ store, prefix: "dedupe:slack:" });
    expect(await after.claim("Ev9")).toBe(false);
    expect(await after.claim("Ev10")).toBe(true);
    expect(await store.get("dedupe:slack:Ev9")).toEqual({ state: "done" });
  });

  it("an id claimed by a process that died before answering is answered by the next one (store of one process)", async () => {
    const store = await openStore("memory", ".");
    // What a killed process left: in progress, its lease not yet lapsed.
    await store.set("dedupe:x", { state: "working", owner: "dead-process", until: Date.now() + 60_000 }, 60_000);
    const d = new Dedupe({ store, prefix: "dedupe:" });
    expect(await d.claim("x")).toBe(true);
    expect(await d.claim("x")).toBe(false);
    await d.done("x");
    expect(await new Dedupe({ store, prefix: "dedupe:" }).claim("x")).toBe(false);
    d.stop();
  });

  it("release lets a later delivery through", async () => {
    const store = await openStore("memory", ".");
    const d = new Dedupe({ store });
    await d.claim("x");
    await d.release("x");
    expect(await new Dedupe({ store }).claim("x")).toBe(true);
  });

  it("a failing store degrades to memory-only and reports the error", async () => {
    const errors: unknown[] = [];
    const broken = {
      update: async () => {
        throw new Error("redis down");
      },
    } as unknown as Store;
    const d = new Dedupe({ store: broken, onStoreError: (e) => errors.push(e) });
    expect(await d.claim("a")).toBe(true);
    expect(await d.claim("a")).toBe(false);
    expect(errors).toHaveLength(1);
  });
});

describe.skipIf(!haveRedis())(
  `Dedupe on Redis (several replicas, a real redis-server)${skipWhy(haveRedis(), "redis-server is not installed")}`,
  () => {
    let redis: RedisServer;
    const stores: Store[] = [];
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
      await redis.stop();
    });

    it("on a shared store (Redis), a claim in progress elsewhere is waited for: dropped once done, taken over once its lease lapses", async () => {
      const shared = await openStore(redis.url, ".");
      stores.push(shared);
      const other = { state: "working", owner: "other-replica", until: Date.now() + 100 };
      await shared.set("dedupe:a", other, 100);
      const d = new Dedupe({ store: shared, prefix: "dedupe:", leaseMs: 300 });
      const waiting = d.claim("a");
      await shared.set("dedupe:a", { state: "done" }, 60_000); // the other replica answered
      expect(await waiting).toBe(false);

      await shared.set("dedupe:b", { ...other, until: Date.now() + 100 }, 100); // the other replica dies: never renewed
      expect(await d.claim("b")).toBe(true);
      expect(await shared.get("dedupe:b")).toMatchObject({ state: "working" });
      d.stop();
    });

    it("a live claim is renewed, so a long answer is not taken over by another replica", async () => {
      const shared = await openStore(redis.url, ".");
      stores.push(shared);
      const a = new Dedupe({ store: shared, prefix: "dedupe:", leaseMs: 150 });
      const b = new Dedupe({ store: shared, prefix: "dedupe:", leaseMs: 150 });
      expect(await a.claim("q")).toBe(true);
      let bDone = false;
      const bClaim = b.claim("q").finally(() => {
        bDone = true;
      });
      // b waits through several of a's lease periods: a renews every 50 ms.
      const renewed = await new Promise<number>((resolve) => {
        let seen = 0;
        const first = Date.now();
        const t = setInterval(async () => {
          const v = await shared.get<{ until: number }>("dedupe:q");
          if (v && v.until > first + 450) {
            clearInterval(t);
            resolve(++seen);
          }
        }, 20);
      });
      expect(renewed).toBe(1);
      expect(bDone).toBe(false);
      await a.done("q");
      expect(await bClaim).toBe(false);
      a.stop();
      b.stop();
    });
  },
);
