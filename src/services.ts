import type { Logger } from "pino";
import type { ChartService } from "./charts/answer/service.ts";
import type { CiProvider } from "./ci/provider.ts";
import type { Config } from "./config/schema.ts";
import type { FollowRecords } from "./follow/records.ts";
import type { Octokit } from "./github/client.ts";
import type { Notifier } from "./notify/notifier.ts";
import type { Store } from "./store/store.ts";

/**
 * What commands may ask for. Built once by the composition root (src/app.ts); sources are created
 * lazily so that a command nobody runs costs nothing at start-up.
 */
export interface Services {
  config: Config;
  store: Store;
  log: Logger;
  now: () => Date;
  /** Waits `ms` (or until `signal` aborts, rejecting); tests replace it to drive polling without sleeping. */
  delay: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The deploy repository's CI (config.deploy.ci), made on first use. */
  ci: CiProvider;
  /** Chart versions for commits and PRs (`sha`, `why`); mirrors are cloned on first use. */
  charts: ChartService;
  /** The GitHub client (config.github), made on first use. */
  github: Octokit;
  /** Unasked messages: watchers, waiters, subscriptions, the outbox (started by `run`). */
  notify: Notifier;
  /** Follows promised in a thread (`retry`, `bump`), kept in the store so a restart resumes them. */
  follows: FollowRecords;
}
