import { describe, expect, it } from "vitest";
import { Backoff, retry } from "../adapters/common/backoff.ts";
import { Watchdog } from "../adapters/common/watchdog.ts";
import { ManualTimers } from "./helpers/timers.ts";

describe("Backoff", () => {
  it("grows exponentially up to the cap, without jitter", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, jitter: "none" });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("full jitter spreads the wait over [min, ceiling] using the injected random", () => {
    const seq = [0, 0.5, 0.999999, 0.25];
    let i = 0;
    const b = new Backoff({ baseMs: 1000, maxMs: 8000, minMs: 100, random: () => seq[i++] ?? 0 });
    expect(b.next()).toBe(100); // ceiling 1000, random 0 → the floor
    expect(b.next()).toBe(1050); // ceiling 2000 → 100 + 0.5·1900
    expect(b.next()).toBe(4000); // ceiling 4000, random ~1
    expect(b.next()).toBe(2075); // ceiling 8000 → 100 + 0.25·7900
    expect(b.attempt).toBe(4);
  });

  it("does not overflow after very many attempts", () => {
    const b = new Backoff({ baseMs: 1, maxMs: 500, jitter: "none" });
    for (let n = 0; n < 5000; n++) b.next();
    expect(b.next()).toBe(500);
  });

  it("rejects nonsense options", () => {
    expect(() => new Backoff({ baseMs: 0 })).toThrow(/backoff/);
    expect(() => new Backoff({ baseMs: 10, maxMs: 5 })).toThrow(/backoff/);
  });
});

describe("retry", () => {
  it("waits with backoff between failures, honours a larger wait the error asks for, then succeeds", async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls === 1) throw new Error("flaky");
        if (calls === 2) throw Object.assign(new Error("429"), { retryAfterMs: 5000 });
        return "done";
      },
      {
        baseMs: 100,
        jitter: "none",
        retryAfterMs: (e) => (e as { retryAfterMs?: number }).retryAfterMs,
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    );
    expect(result).toBe("done");
    expect(waits).toEqual([100, 5000]);
  });

  it("gives up after `attempts` and on non-retryable errors", async () => {
    const noSleep = async () => {};
    let n = 0;
    await expect(
      retry(
        async () => {
          n++;
          throw new Error(`fail ${n}`);
        },
        { attempts: 3, sleep: noSleep },
      ),
    ).rejects.toThrow("fail 3");
    let m = 0;
    await expect(
      retry(
        async () => {
          m++;
          throw new Error("fatal");
        },
        { retryable: () => false, sleep: noSleep },
      ),
    ).rejects.toThrow("fatal");
    expect(m).toBe(1);
  });
});

describe("Watchdog", () => {
  it("fires once after a silence, re-fires only after retryMs, and stays quiet while heard", () => {
    const timers = new ManualTimers(1_000);
    const silences: number[] = [];
    const w = new Watchdog({ timeoutMs: 100, retryMs: 300, timers, onSilent: (ms) => void silences.push(ms) });
    w.start();
    for (let i = 0; i < 10; i++) {
      timers.advance(60);
      w.heard();
    }
    expect(silences).toEqual([]);
    timers.advance(99);
    expect(silences).toEqual([]);
    timers.advance(1);
    expect(silences).toEqual([100]);
    timers.advance(299);
    expect(silences).toEqual([100]);
    timers.advance(1);
    expect(silences).toEqual([100, 400]);
    w.heard();
    timers.advance(99);
    expect(w.fired).toBe(2);
    w.stop();
    timers.advance(10_000);
    expect(w.fired).toBe(2);
    expect(timers.pending).toBe(0);
  });

  it("passes a failing reconnect to onError instead of throwing", async () => {
    const timers = new ManualTimers();
    const errors: unknown[] = [];
    const w = new Watchdog({
      timeoutMs: 10,
      timers,
      onSilent: async () => {
        throw new Error("reconnect failed");
      },
      onError: (e) => errors.push(e),
    });
    w.start();
    timers.advance(10);
    await Promise.resolve();
    await Promise.resolve();
    expect((errors[0] as Error).message).toBe("reconnect failed");
    w.stop();
  });
});
