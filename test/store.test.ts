import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openStore, type Store } from "../src/store/store.ts";
import { haveRedis, type RedisServer, startRedis } from "./helpers/redis.ts";
import { skipWhy } from "./helpers/skip.ts";

// In CI redis-server is installed by .ci/run, so its absence there is a failure, not a skip.
const redisAvailable = haveRedis() || process.env.CI === "true";
let redis: RedisServer | undefined;
beforeAll(async () => {
  if (redisAvailable) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const backends: Array<[string, () => Promise<Store>, boolean]> = [
  ["memory", () => openStore("memory", "."), true],
  ["sqlite", () => openStore("sqlite", mkdtempSync(join(tmpdir(), "bb-store-"))), true],
  ["redis", () => openStore(redis?.url ?? "redis://127.0.0.1:1", "."), redisAvailable],
];

describe.each(backends)("store on %s", (name, open, available) => {
  it.skipIf(!available)(`round-trips values${available ? "" : " (skipped: redis-server is not installed)"}`, async () => {
    const s = await open();
    try {
      expect(s.kind).toBe(name);
      await s.set("k:obj", { a: 1, nested: { list: [1, "two"] } });
      expect(await s.get("k:obj")).toEqual({ a: 1, nested: { list: [1, "two"] } });
      expect(await s.get("k:missing")).toBeUndefined();
      expect(await s.delete("k:obj")).toBe(true);
      expect(await s.get("k:obj")).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it.skipIf(!available)(
    `serialises concurrent updates of one key (no lost element)${skipWhy(available, "redis-server is not installed")}`,
    async () => {
      const s = await open();
      try {
        await s.delete("list");
        await Promise.all(Array.from({ length: 25 }, (_, i) => s.update<number[]>("list", (cur) => [...(cur ?? []), i])));
        const got = (await s.get<number[]>("list")) ?? [];
        expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
        expect(await s.update<number[]>("list", () => undefined)).toBeUndefined();
        expect(await s.get("list")).toBeUndefined();
      } finally {
        await s.close();
      }
    },
  );

  it.skipIf(!available)(
    `claims a key once: the first caller wins, the rest see it taken, release frees it${skipWhy(available, "redis-server is not installed")}`,
    async () => {
      const s = await open();
      try {
        const key = `claim:${Date.now()}:${Math.random()}`;
        const results = await Promise.all(Array.from({ length: 10 }, () => s.claim(key, 60_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await s.get(key)).toBeTypeOf("number");
        expect(await s.delete(key)).toBe(true);
        expect(await s.claim(key, 60_000)).toBe(true);
      } finally {
        await s.close();
      }
    },
  );

  it.skipIf(!available)(`lists entries by prefix${skipWhy(available, "redis-server is not installed")}`, async () => {
    const s = await open();
    try {
      const tag = `p${Date.now()}`;
      await s.set(`${tag}:waiter:a`, { room: "a" });
      await s.set(`${tag}:waiter:b`, { room: "b" });
      await s.set(`${tag}:other`, 1);
      const got: string[] = [];
      for await (const [k] of s.entries(`${tag}:waiter:`)) got.push(k);
      expect(got.sort()).toEqual([`${tag}:waiter:a`, `${tag}:waiter:b`]);
    } finally {
      await s.close();
    }
  });

  // keyv stamps expiry with Date.now() for memory and sqlite; Redis expires keys itself (PX), which
  // the redis store's own test below checks instead.
  if (name !== "redis")
    it("forgets a value after its ttl", async () => {
      const s = await open();
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        await s.set("short", 1, 60_000);
        expect(await s.get("short")).toBe(1);
        vi.setSystemTime(Date.now() + 61_000);
        expect(await s.get("short")).toBeUndefined();
      } finally {
        vi.useRealTimers();
        await s.close();
      }
    });
});

describe("sqlite store", () => {
  it("keeps state across a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bb-store-"));
    const a = await openStore("sqlite", dir);
    await a.set("sync:token", "s72594_4483_1934");
    await a.close();
    const b = await openStore("sqlite", dir);
    expect(await b.get("sync:token")).toBe("s72594_4483_1934");
    await b.close();
  });
});

describe("redis store", () => {
  it.skipIf(!redisAvailable)(
    `lets exactly one of several replicas claim the same key${skipWhy(redisAvailable, "redis-server is not installed")}`,
    async () => {
      const replicas = await Promise.all(Array.from({ length: 4 }, () => openStore(redis!.url, ".")));
      try {
        for (let round = 0; round < 20; round++) {
          const key = `dedupe:slack:Ev${Date.now()}-${round}`;
          const won = await Promise.all(replicas.flatMap((r) => [r.claim(key, 60_000), r.claim(key, 60_000)]));
          expect(won.filter(Boolean)).toHaveLength(1);
        }
      } finally {
        await Promise.all(replicas.map((r) => r.close()));
      }
    },
  );

  it.skipIf(!redisAvailable)(
    `hands a value's ttl to Redis, which expires the key itself${skipWhy(redisAvailable, "redis-server is not installed")}`,
    async () => {
      const s = await openStore(redis!.url, ".");
      try {
        await s.set("short-lived", 1, 60_000);
        await s.set("kept", 2);
        const port = new URL(redis!.url).port;
        const cli = (...args: string[]) =>
          execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", port, ...args], { encoding: "utf8" }).trim();
        const keyOf = (part: string) => cli("--scan", "--pattern", `*${part}*`).split("\n")[0] ?? "";
        const ttl = Number(cli("PTTL", keyOf("short-lived")));
        expect(ttl).toBeGreaterThan(0); // -1 would be "no expiry", -2 "no such key"
        expect(ttl).toBeLessThanOrEqual(60_000);
        expect(cli("PTTL", keyOf("kept"))).toBe("-1");
      } finally {
        await s.close();
      }
    },
  );

  it("fails at open, clearly, when the server is not there", async () => {
    await expect(openStore("redis://127.0.0.1:1", ".")).rejects.toThrow();
  });
});
