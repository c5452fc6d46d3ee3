import type { Logger } from "pino";
import type { Metrics } from "../../src/metrics.ts";
import type { Store } from "../../src/store/store.ts";
import type { BackoffOptions, Sleeper } from "../common/backoff.ts";
import type { WatchdogTimers } from "../common/watchdog.ts";

export interface MatrixAdapterOptions {
  /** "matrix", or "gitter" for the Gitter profile. */
  platform?: string;
  homeserver: string;
  /** Expected user id; found with whoami when absent. */
  userId?: string;
  accessToken?: string;
  password?: string;
  /** Room ids (`!id:server`) or aliases (`#alias:server`) to join at start. */
  rooms?: string[];
  /** How this platform writes rooms → a Matrix alias or room id (the Gitter profile: `gitter.im/org/room`). Default: as is. */
  roomAlias?: (room: string) => string;
  /** Accept invitations to other rooms. */
  autojoin?: boolean;
  /** Sync token and dedupe ids live here. */
  store: Store;
  log: Logger;
  /** Server-side long-poll timeout of /sync (ms). Default 30000. */
  pollTimeoutMs?: number;
  /** Silence longer than this (ms) means the connection is dead. Default pollTimeout + 60000. */
  watchdogMs?: number;
  /** Timers for the watchdog (tests). */
  timers?: WatchdogTimers;
  /** Reconnect backoff. Default 1 s doubling to 5 min, full jitter. */
  backoff?: BackoffOptions;
  /** Sleep used between reconnects and send retries (tests may shorten it). */
  sleep?: Sleeper;
  /** Messages older than this (ms) when first seen after a restart are not answered. Default 15 min. */
  maxCatchUpAgeMs?: number;
  /** The same text is not posted twice in a row to a room within this window (ms). Default 30 s. */
  repeatWindowMs?: number;
  /** Attempts per send before giving up (429s and network errors are retried). Default 5. */
  sendAttempts?: number;
  now?: () => number;
  fetchFn?: typeof fetch;
  /** Counts reconnects and send failures (binderbot_errors_total). */
  metrics?: Metrics;
}

/** What `run` gives a Matrix-based adapter besides its config section. */
export interface MatrixDeps {
  store: Store;
  log: Logger;
  metrics?: Metrics | undefined;
}

/** The keys the `adapters.matrix` and `adapters.gitter` sections share. */
export interface MatrixLikeConfig {
  homeserver: string;
  userId?: string | undefined;
  accessToken?: string | undefined;
  password?: string | undefined;
  rooms: string[];
  autojoin: boolean;
}

/** Adapter options from the `adapters.matrix` config section (or a section shaped like it: Gitter). */
export function matrixOptions(cfg: MatrixLikeConfig, deps: MatrixDeps): MatrixAdapterOptions {
  return {
    platform: "matrix",
    homeserver: cfg.homeserver,
    ...(cfg.userId ? { userId: cfg.userId } : {}),
    ...(cfg.accessToken ? { accessToken: cfg.accessToken } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
    rooms: cfg.rooms,
    autojoin: cfg.autojoin,
    store: deps.store,
    log: deps.log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
}
