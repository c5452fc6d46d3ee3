import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { ChartService } from "./charts/answer/service.ts";
import { createCiProvider } from "./ci/index.ts";
import { resumeFollows } from "./commands/follows.ts";
import { commands } from "./commands/index.ts";
import { ConfigError, type LoadedConfig } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { redactor } from "./config/secrets.ts";
import { AccessPolicy, accessProblems } from "./core/access.ts";
import { Bot, scrubReply } from "./core/bot.ts";
import type { CommandSpec } from "./core/command.ts";
import { errorLine } from "./core/one-line.ts";
import { Registry } from "./core/registry.ts";
import { FollowRecords } from "./follow/records.ts";
import { githubClient, type Octokit } from "./github/client.ts";
import { githubMembership } from "./github/membership.ts";
import { createLogger } from "./log.ts";
import { metrics } from "./metrics.ts";
import { durationMs } from "./notify/duration.ts";
import { Notifier } from "./notify/notifier.ts";
import type { Services } from "./services.ts";
import { openStore, type Store } from "./store/store.ts";

export interface App {
  bot: Bot<Services>;
  services: Services;
  loaded: LoadedConfig;
  redact: (text: string) => string;
  close(): Promise<void>;
  /** Shutdown: outgoing requests in progress (GitHub) are aborted. */
  abort(): void;
  /**
   * Resumes the follows a restart (or a replica that died) left in the store, now and every
   * notify.lease; call once the notifier's outbox is started. Resolves with the number this scan took
   * once they have ended (tests); `run` does not wait for it.
   */
  resumeFollows(): Promise<number>;
}

export interface AppOptions {
  log?: Logger;
  store?: Store;
  now?: () => Date;
  /** Replaces the waits of polling loops (tests drive them without sleeping). */
  delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Extra or replacement commands (tests). */
  commands?: readonly CommandSpec<Services>[];
  /** Minimum log level regardless of config (the one-shot CLI keeps quiet). */
  logLevel?: string;
  /** Shorter waits than production's (tests): GitHub's retry base unit, the answer's wait for the pin. */
  waits?: AppWaits;
}

export interface AppWaits {
  /** Base unit of Octokit's retry and rate-limit waits in ms (1000 in production). */
  githubRetryBaseMs?: number;
  /** How long a `sha` answer waits for the deploy pin (4000 ms in production). */
  pinWaitMs?: number;
}

/** The composition root: config → logger, store, sources → the command core. */
export async function createApp(loaded: LoadedConfig, opts: AppOptions = {}): Promise<App> {
  const { config } = loaded;
  const redact = redactor(loaded.secrets);
  const log = opts.log ?? createLogger({ level: opts.logLevel ?? config.log.level, format: config.log.format, redact });
  const store = opts.store ?? (await openStore(config.store, config.dataDir));
  // Said once when the store stops answering and once when it is back (not once per failed call).
  store.health?.on("down", (err: unknown) =>
    log.error(
      { err: redact(errorLine(err)), store: store.status?.().detail },
      "store unreachable: /readyz says not ready; duplicate events are caught in memory only, and what needs the store (waiters, history) fails with a line saying so until it is back",
    ),
  );
  store.health?.on("up", () => log.warn({ store: store.status?.().detail }, "store reachable again"));
  const now = opts.now ?? (() => new Date());
  const delay = opts.delay ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, signal ? { signal } : {}));
  const services = { config, store, log, now, delay } as Services;
  // Sources are made on first use: a command nobody runs costs nothing at start-up.
  let octokit: Octokit | undefined;
  const shutdown = new AbortController();
  const github = () => {
    octokit ??= githubClient(config.github, {
      log,
      signal: shutdown.signal,
      ...(opts.waits?.githubRetryBaseMs !== undefined ? { retryBaseMs: opts.waits.githubRetryBaseMs } : {}),
    });
    return octokit;
  };
  lazy(services, "ci", () => createCiProvider(config, github));
  lazy(services, "github", github);
  let charts: ChartService | undefined;
  lazy(services, "charts", () => {
    charts = new ChartService({
      config,
      store,
      log,
      now,
      octokit: github,
      ...(opts.waits?.pinWaitMs !== undefined ? { pinWaitMs: opts.waits.pinWaitMs } : {}),
    });
    return charts;
  });
  let notifier: Notifier | undefined;
  lazy(services, "notify", () => {
    notifier = new Notifier({ config, store, log, now, services: () => services, github, metrics });
    return notifier;
  });
  let follows: FollowRecords | undefined;
  lazy(services, "follows", () => {
    follows = new FollowRecords(store, log, durationMs(config.notify.lease));
    return follows;
  });
  const resuming = new AbortController();
  let rescan: NodeJS.Timeout | undefined;
  const resumed = new Set<Promise<number>>();
  const registry = new Registry(opts.commands ?? commands);
  const bot = new Bot<Services>({
    registry,
    services,
    prefix: config.prefix,
    names: config.names,
    flood: config.flood,
    access: accessPolicy(config, github, loaded.file, registry),
    log,
    redact,
    now: () => now().getTime(),
  });
  return {
    bot,
    services,
    loaded,
    redact,
    abort() {
      shutdown.abort(new Error("binderbot is stopping"));
    },
    resumeFollows() {
      const scan = (): Promise<number> => {
        const p = resumeFollows({
          services,
          prefix: config.prefix,
          scrub: (reply) => scrubReply(reply, redact),
          signal: resuming.signal,
        }).catch((err: unknown) => {
          log.warn({ err: errorLine(err) }, "cannot resume follows from the store; trying again later");
          return 0;
        });
        resumed.add(p);
        void p.finally(() => resumed.delete(p));
        return p;
      };
      rescan ??= setInterval(scan, services.follows.leaseMs);
      rescan.unref();
      return scan();
    },
    async close() {
      if (rescan) clearInterval(rescan);
      resuming.abort();
      await Promise.allSettled([...resumed]);
      await notifier?.stop();
      await bot.close(); // follow-ups and long operations end before the store they write to
      await follows?.idle(); // their leases are given up, so a restart resumes them at once
      charts?.close();
      await store.close();
      log.flush?.();
    },
  };
}

/**
 * The access policy of a config; a policy that names an unknown role or command, or a display name
 * where an immutable id belongs, is a config error at start.
 */
function accessPolicy(config: Config, github: () => Octokit, file: string, registry: Registry<Services>): AccessPolicy {
  const names = registry.all().map((s) => s.name);
  const problems = accessProblems(config.access, names);
  if (problems.length) throw new ConfigError(file, problems);
  const gh = config.access.github;
  return new AccessPolicy({
    roles: config.access.roles,
    commands: config.access.commands,
    ...(gh ? { github: githubMembership({ ...gh, octokit: github }) } : {}),
  });
}

/** Defines `obj[key]` as a value made on first read. */
function lazy<T extends object, K extends keyof T>(obj: T, key: K, make: () => T[K]): void {
  let value: T[K] | undefined;
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      value ??= make();
      return value;
    },
  });
}
