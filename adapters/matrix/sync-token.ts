import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { MatrixError } from "matrix-js-sdk";
import type { Logger } from "pino";
import type { Store } from "../../src/store/store.ts";
import { matrixErrorLine } from "./errors.ts";

/**
 * Where /sync stands, kept in the store as `<platform>:sync:<userId>` so a restart resumes there:
 * it neither replays what was answered nor misses what was said while the bot was down. A token is
 * persisted only once every message of the batch it ends has been answered (`track` those answers).
 */
export class SyncToken {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #platform: string;
  #key = "";
  /** Latest sync token seen (used on reconnect); the store holds the last one persisted. */
  #since: string | null = null;
  #persistChain: Promise<void> = Promise.resolve();
  readonly #inflight = new Set<Promise<unknown>>();
  /** An answer was abandoned at shutdown: no later token may be persisted, so its event is redelivered. */
  #frozen = false;

  constructor(o: { store: Store; log: Logger; platform: string }) {
    this.#store = o.store;
    this.#log = o.log;
    this.#platform = o.platform;
  }

  get since(): string | null {
    return this.#since;
  }

  /** Reads the persisted token of this account; null on a first start. */
  async load(userId: string): Promise<string | null> {
    this.#key = `${this.#platform}:sync:${userId}`;
    this.#since = (await this.#store.get<string>(this.#key)) ?? null;
    return this.#since;
  }

  /**
   * An answer in progress: tokens seen from now on are persisted only after it settles. One that
   * resolves to "abandoned" (shutdown) holds every later token back for good.
   */
  track(answer: Promise<unknown>): void {
    const p = answer.finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  /** A sync completed with token T: persist it once every message of that batch has been answered. */
  advance(token: string): void {
    this.#since = token;
    const pending = [...this.#inflight];
    const key = this.#key;
    this.#persistChain = this.#persistChain
      .then(() => Promise.allSettled(pending))
      .then(async (settled) => {
        if (settled.some((r) => r.status === "fulfilled" && r.value === "abandoned")) this.#frozen = true;
        if (!this.#frozen) await this.#store.set(key, token);
      })
      .catch((err: unknown) =>
        this.#log.warn({ err: matrixErrorLine(err) }, `${this.#platform}: could not persist the sync token`),
      );
  }

  /**
   * A homeserver that refuses our since token with a 4xx (a reset database, a token from another
   * server) would refuse it forever: forget it, so the next attempt starts with a fresh sync. What was
   * said in between is then not answered, which is logged.
   */
  refused(token: string | null, err: unknown): void {
    if (token === null || !(err instanceof MatrixError)) return;
    const status = err.httpStatus ?? 0;
    if (status < 400 || status >= 500 || status === 429 || status === 401 || status === 403) return;
    this.#log.warn(
      { err: matrixErrorLine(err) },
      `${this.#platform}: the homeserver refused the saved sync token; starting a fresh sync`,
    );
    this.#since = null;
    void this.#store.delete(this.#key).catch(() => {});
  }

  /** Waits for the answers in progress and the token writes they hold back (stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
    await this.#persistChain;
  }
}
