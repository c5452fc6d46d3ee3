import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { Octokit } from "../github/client.ts";
import type { Metrics } from "../metrics.ts";
import type { Services } from "../services.ts";
import type { Store } from "../store/store.ts";
import { BehindWatcher, DeployWatcher } from "./deploy-watcher.ts";
import { durationMs } from "./duration.ts";
import { IndexWatcher } from "./index-watcher.ts";
import { Outbox, type Send } from "./outbox.ts";
import { Schedules } from "./schedules.ts";
import { Subscriptions } from "./subscriptions.ts";

export interface NotifierOptions {
  config: Config;
  store: Store;
  log: Logger;
  now: () => Date;
  /** The services the deploy and behind watchers read (the CI, the deploy pin, the charts). */
  services: () => Services;
  /** GitHub, when a token or an API is configured (PR look-ups fall back to it). */
  github: (() => Octokit) | null;
  metrics?: Metrics;
}

/**
 * Tells rooms unasked (docs/notify.md): the watchers on their schedules, the waiters `sha` and `why`
 * register, the subscriptions, and the outbox that delivers each notification once. Nothing runs
 * until `start` (the `run` command calls it once the chat adapters are up).
 */
export class Notifier {
  readonly subscriptions: Subscriptions;
  readonly outbox: Outbox;
  readonly index: IndexWatcher;
  readonly deploys: DeployWatcher;
  readonly behind: BehindWatcher;
  readonly schedules: Schedules;
  readonly #o: NotifierOptions;
  #started = false;

  constructor(o: NotifierOptions) {
    this.#o = o;
    const n = o.config.notify;
    const log = o.log.child({ component: "notify" });
    const leaseMs = durationMs(n.lease);
    this.subscriptions = new Subscriptions(n, o.store);
    this.outbox = new Outbox({
      store: o.store,
      log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      attempts: n.attempts,
      retryDelayMs: durationMs(n.retryDelay),
      lockMs: leaseMs,
      scanMs: leaseMs,
    });
    const common = { store: o.store, log, now: o.now, outbox: this.outbox, subscriptions: this.subscriptions };
    this.index = new IndexWatcher({ ...common, charts: o.config.charts, service: () => o.services().charts, github: o.github });
    this.deploys = new DeployWatcher(o.services, this.outbox, this.subscriptions);
    this.behind = new BehindWatcher(o.services, this.outbox, this.subscriptions);
    this.schedules = new Schedules(o.store, log, leaseMs);
  }

  /** Starts delivering (what a crash left first) and the schedules. */
  async start(send: Send): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.outbox.start(send);
    const s = this.#o.config.notify.schedules;
    this.schedules.start([
      { name: "index", cron: s.index, run: () => this.index.poll() },
      { name: "deploys", cron: s.deploys, run: () => this.deploys.poll() },
      { name: "behind", cron: s.behind, run: () => this.behind.check() },
    ]);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.schedules.stop();
    this.outbox.stop();
  }
}
