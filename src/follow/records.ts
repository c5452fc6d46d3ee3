import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { CiRun } from "../ci/provider.ts";
import { errorLine } from "../core/one-line.ts";
import type { Target } from "../notify/subscriptions.ts";
import type { Store } from "../store/store.ts";

/**
 * A follow the bot promised in a thread (`retry`: the re-run's end; `bump`: the PR's merge and
 * deploy), written to the store before it starts and deleted once its outcome is said, so a restart
 * (deploy, crash, kill -9) resumes it instead of losing the message.
 */
export interface FollowRecord {
  id: string;
  kind: "retry" | "bump";
  /** Where to tell: the asker's room and thread. */
  target: Target;
  /** Give up at this time (ms since epoch): the original deadline, kept across restarts. */
  until: number;
  createdAt: string;
  /** retry: the run as it was before the re-run (its attempt), and the ledger entry to settle. */
  retry?: { run: CiRun; ledgerId: string };
  /** bump: the PR and the version it bumps to. */
  bump?: { pr: number; url: string; version: string };
}

const RECORD = "follow:record:";
const LEASE = "follow:lease:";

/**
 * The store's follow records. The replica following a record holds its lease (`follow:lease:<id>`,
 * the same atomic lease the notifier's schedules use, renewed at a third of its length), so of
 * several replicas on one Redis exactly one follows it; when the holder dies the lease runs out and
 * the next scan (at start, then every lease length) takes the record over.
 */
export class FollowRecords {
  readonly owner = randomUUID();
  /** Records this process follows now (a rescan must not start a second follow of one). */
  readonly #running = new Map<string, Promise<boolean>>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    readonly leaseMs: number,
  ) {}

  async add(rec: FollowRecord): Promise<void> {
    await this.store.set(RECORD + rec.id, rec);
  }

  async *pending(): AsyncGenerator<FollowRecord> {
    for await (const [, rec] of this.store.entries<FollowRecord>(RECORD)) yield rec;
  }

  /**
   * Runs `work` for the record while holding its lease; false (nothing run) when another replica
   * holds it. The record is deleted when `work` ends (its outcome said), and kept when the bot
   * stopped it (`signal` aborted) or it failed, so a restart resumes it.
   */
  async hold(rec: FollowRecord, signal: AbortSignal, work: () => Promise<void>): Promise<boolean> {
    const key = LEASE + rec.id;
    if (this.#running.has(rec.id)) return false;
    const task = this.#hold(rec, key, signal, work);
    this.#running.set(rec.id, task);
    try {
      return await task;
    } finally {
      this.#running.delete(rec.id);
    }
  }

  /** Resolves when no follow of this process runs (a stop waits for their leases to be given up). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  async #hold(rec: FollowRecord, key: string, signal: AbortSignal, work: () => Promise<void>): Promise<boolean> {
    if (!(await this.store.lease(key, this.owner, this.leaseMs))) return false;
    // Another replica may have finished it (and let the lease go) since this one listed it.
    if (!(await this.store.get(RECORD + rec.id))) {
      await this.store.release(key, this.owner);
      return false;
    }
    const renew = setInterval(
      () => {
        void this.store.lease(key, this.owner, this.leaseMs).catch((e) => {
          this.log.warn({ follow: rec.id, err: errorLine(e) }, "cannot renew the follow lease");
        });
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    try {
      await work();
      if (!signal.aborted) await this.store.delete(RECORD + rec.id);
    } finally {
      clearInterval(renew);
      await this.store.release(key, this.owner).catch(() => {});
    }
    return true;
  }
}
