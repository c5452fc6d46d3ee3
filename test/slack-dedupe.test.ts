import { describe, expect, it } from "vitest";
import { Dedupe } from "../adapters/common/dedupe.ts";
import { openStore, type Store } from "../src/store/store.ts";

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

  it("with a store, a restarted process (new Dedupe) still refuses an id claimed before", async () => {
    const store = await openStore("memory", ".");
    const before = new Dedupe({ store, prefix: "dedupe:slack:" });
    expect(await before.claim("Ev9")).toBe(true);
    const after = new Dedupe({ store, prefix: "dedupe:slack:" });
    expect(await after.claim("Ev9")).toBe(false);
    expect(await after.claim("Ev10")).toBe(true);
    expect(await store.get("dedupe:slack:Ev9")).toBeTypeOf("number");
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
