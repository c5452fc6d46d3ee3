import { randomUUID } from "node:crypto";
import cron from "node-cron";
import type { Logger } from "pino";
import { errorLine } from "../core/one-line.ts";
import type { Store } from "../store/store.ts";

export interface Job {
  name: string;
  /** node-cron expression (six fields allowed); "" turns the job off. */
  cron: string;
  run: () => Promise<void>;
}

/**
 * The notifier's node-cron schedules, each run by one replica at a time: a job runs only on the
 * replica holding its lease (`notify:lease:<name>` in the store; SET NX PX on Redis). The holder
 * renews it at a third of its length; when the holder dies the lease expires and the next replica
 * to try takes the job over. Several replicas on one Redis thus run each slot once.
 */
export class Schedules {
  readonly owner = randomUUID();
  readonly #tasks: Array<{ stop(): void | Promise<void> }> = [];
  readonly #held = new Set<string>();
  #renew: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly leaseMs: number,
  ) {}

  start(jobs: readonly Job[]): void {
    const active = jobs.filter((j) => j.cron !== "");
    for (const job of active) {
      const task = cron.schedule(
        job.cron,
        async () => {
          if (this.#stopped || !(await this.#lease(job.name))) return;
          try {
            await job.run();
          } catch (e) {
            this.log.warn({ job: job.name, err: errorLine(e) }, "scheduled job failed");
          }
        },
        { name: `notify-${job.name}`, noOverlap: true },
      );
      this.#tasks.push(task);
    }
    if (active.length === 0) return;
    // Take (or keep) every lease now and at a third of its length, so the holder never lapses while alive.
    const renew = () => {
      for (const job of active) void this.#lease(job.name);
    };
    renew();
    this.#renew = setInterval(renew, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.#renew.unref();
  }

  /** Whether this replica holds the job's lease now (tests, logs). */
  holds(name: string): boolean {
    return this.#held.has(name);
  }

  async #lease(name: string): Promise<boolean> {
    let held = false;
    try {
      held = await this.store.lease(`notify:lease:${name}`, this.owner, this.leaseMs);
    } catch (e) {
      this.log.warn({ job: name, err: errorLine(e) }, "cannot take the schedule lease");
    }
    if (held !== this.#held.has(name))
      this.log.info({ job: name, owner: this.owner }, held ? "schedule lease taken" : "schedule lease lost");
    if (held) this.#held.add(name);
    else this.#held.delete(name);
    return held;
  }

  /** Stops the schedules and gives the leases up, so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#renew) clearInterval(this.#renew);
    for (const t of this.#tasks.splice(0)) await t.stop();
    await Promise.all([...this.#held].map((n) => this.store.release(`notify:lease:${n}`, this.owner).catch(() => {})));
    this.#held.clear();
  }
}
