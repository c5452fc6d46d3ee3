import cron from "node-cron";
import type { Logger } from "pino";
import type { Config } from "../../config/schema.ts";
import { errorLine } from "../../core/one-line.ts";
import type { UserRef } from "../../core/ref.ts";
import { githubClient, type Octokit } from "../../github/client.ts";
import { durationMs } from "../../notify/duration.ts";
import { type Asker, addWaiter } from "../../notify/waiters.ts";
import type { Store } from "../../store/store.ts";
import { ShaError } from "../errors.ts";
import { History } from "../git/history.ts";
import { Mirror } from "../git/mirror.ts";
import type { Repo } from "../git/repo.ts";
import { resolveRef, resolveSha } from "../git/resolve-ref.ts";
import { ChartIndex } from "../index/chart-index.ts";
import { PinReader } from "../index/deploy-pin.ts";
import { ChartRule } from "../rule/compute.ts";
import { answerFor, type Build, buildOf } from "./assemble.ts";
import { type Chart, snapshot } from "./chart.ts";
import { explainVersion } from "./explain-version.ts";
import { pinInfo, readPin } from "./pin-info.ts";
import type { ShaAnswer, VersionExplanation } from "./types.ts";

export interface ChartServiceOptions {
  config: Config;
  store: Store;
  log: Logger;
  now: () => Date;
  /** GitHub client; created from config.github on first use when absent. */
  octokit?: () => Octokit;
  /** Index fetch (tests). */
  fetch?: typeof fetch;
  /** How long an answer waits for the deploy pin (PIN_WAIT_MS by default; tests make it short). */
  pinWaitMs?: number;
}

/**
 * Answers "which chart version is this commit?" exactly as chartpress computed it, and whether and
 * when it was published. Nothing happens at construction: each chart's mirror is cloned, and the
 * scheduled fetch started, on first use.
 *
 * A façade over one Chart per configured chart: git/resolve-ref.ts (ref → commit), git/history.ts
 * (which commit CI built, tags; one History per mirror owns those caches), rule/compute.ts (the
 * rule and its cache), assemble.ts (the answer), pin-info.ts (the deploy pin), explain-version.ts,
 * and the notifier's waiters (src/notify/waiters.ts).
 */
export class ChartService {
  readonly #opts: ChartServiceOptions;
  readonly #log: Logger;
  readonly #charts = new Map<string, Chart>();
  readonly #indexes = new Map<string, ChartIndex>();
  #octokit: Octokit | null = null;
  #pins: PinReader | null = null;
  #cron: { stop(): void } | null = null;

  constructor(opts: ChartServiceOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: "charts" });
  }

  /** Configured chart names; the first is the default. */
  charts(): string[] {
    return this.#opts.config.charts.map((c) => c.name);
  }

  /** The chart's mirror (created, not cloned). For the benchmark and tests. */
  mirror(chart: string): Mirror {
    return this.#chart(chart).repo.mirror;
  }

  /** The chart's index source (shared with every chart configured with the same URL). */
  index(chart: string): ChartIndex {
    return this.#chart(chart).index;
  }

  /** Stops the scheduled fetch and the git helper processes. */
  close(): void {
    this.#cron?.stop();
    this.#cron = null;
    for (const c of this.#charts.values()) c.repo.mirror.git.close();
  }

  /** Fetches every mirror opened so far and refreshes their indexes (the scheduled job). */
  async refreshAll(): Promise<void> {
    const charts = [...this.#charts.values()];
    const indexes = new Set(charts.map((c) => c.index));
    await Promise.all([
      ...charts.map(async (c) => {
        try {
          await c.repo.mirror.fetch();
        } catch (e) {
          this.#log.warn({ chart: c.cfg.name, err: errorLine(e) }, "scheduled mirror fetch failed");
        }
      }),
      ...[...indexes].map((index) => index.refresh().catch(() => {})),
    ]);
  }

  /** The answer for a ref (undefined: the tip of the default branch), with the deploy pin. */
  async answer(chart: string, ref: UserRef | undefined, opts: { pin?: boolean } = {}): Promise<ShaAnswer> {
    const c = this.#chart(chart);
    const deploy = this.#opts.config.deploy;
    let pinP: ReturnType<typeof readPin> | null = null;
    if (opts.pin !== false) {
      this.#pins ??= new PinReader(
        () => this.#octo(),
        () => this.#opts.now().getTime(),
      );
      pinP = readPin(this.#pins, deploy, chart);
    }
    const [resolved, snap] = await Promise.all([resolveRef(c.repo, ref), snapshot(c)]);
    const answer = await answerFor(c, resolved.commit, snap, resolved.pr, resolved.view);
    if (resolved.githubError && resolved.pr !== null)
      answer.foundWithoutGitHub = { pr: resolved.pr, githubError: resolved.githubError };
    if (pinP) answer.pin = await pinInfo(pinP, answer, snap, deploy, this.#opts.pinWaitMs);
    return answer;
  }

  /** The answer for a full SHA already known to the mirror (no pin). */
  async answerCommit(chart: string, sha: string): Promise<ShaAnswer> {
    const c = this.#chart(chart);
    const [commit, snap] = await Promise.all([resolveSha(c.repo, sha), snapshot(c)]);
    return answerFor(c, commit, snap, null);
  }

  /**
   * What a CI build of exactly `sha` made, as if that commit had been pushed to a branch CI builds
   * (2017's CI published every branch push). The real-history checks use it for published versions
   * of commits that no default-branch build reached.
   */
  async buildOfCommit(chart: string, sha: string): Promise<Build> {
    const c = this.#chart(chart);
    const [commit, snap] = await Promise.all([resolveSha(c.repo, sha), snapshot(c)]);
    return buildOf(c, await c.repo.history.current(), commit, snap);
  }

  /**
   * For a pinned version missing from the index (or any version): which commit it names and which
   * version the person most likely meant.
   */
  explainVersion(chart: string, version: string): Promise<VersionExplanation> {
    return explainVersion(this.#chart(chart), version);
  }

  /** Registers "tell this room when <version> is published"; the notifier (src/notify/) keeps the promise. */
  addWaiter(a: ShaAnswer, who: Asker): Promise<string> {
    return addWaiter(this.#opts.store, this.#opts.now, a, who, durationMs(this.#opts.config.notify.waiterTtl));
  }

  #octo(): Octokit {
    if (this.#opts.octokit) return this.#opts.octokit();
    this.#octokit ??= githubClient(this.#opts.config.github, { log: this.#log });
    return this.#octokit;
  }

  /** The chart, created (not cloned) on first use; starts the scheduled fetch. */
  #chart(name: string): Chart {
    const existing = this.#charts.get(name);
    if (existing) return existing;
    const { config, now } = this.#opts;
    const cfg = config.charts.find((c) => c.name === name);
    if (!cfg) {
      throw new ShaError({ kind: "unknown-chart", chart: name, charts: this.charts() });
    }
    const mirror = new Mirror({
      name: cfg.name,
      url: cfg.git,
      dataDir: config.dataDir,
      log: this.#log,
      ...(cfg.branch ? { branch: cfg.branch } : {}),
      fetchTimeoutMs: config.mirrors.fetchTimeoutSeconds * 1000,
      now,
    });
    const repo: Repo = {
      chart: cfg.name,
      github: cfg.github,
      mirror,
      history: new History(mirror),
      log: this.#log,
      now,
      maxAgeMs: config.mirrors.maxAgeSeconds * 1000,
      octokit: () => this.#octo(),
    };
    const chart: Chart = { cfg, repo, rule: new ChartRule(repo, cfg), index: this.#indexFor(cfg.index) };
    this.#charts.set(name, chart);
    this.#startSchedule();
    return chart;
  }

  /**
   * One ChartIndex per URL, shared by every chart that names it (binderhub and jupyterhub publish
   * to one index): it is fetched, parsed and polled once, not once per chart.
   */
  #indexFor(url: string): ChartIndex {
    let index = this.#indexes.get(url);
    if (!index) {
      index = new ChartIndex({
        url,
        log: this.#log,
        store: this.#opts.store,
        now: this.#opts.now,
        ...(this.#opts.fetch ? { fetch: this.#opts.fetch } : {}),
      });
      this.#indexes.set(url, index);
    }
    return index;
  }

  #startSchedule(): void {
    const expr = this.#opts.config.mirrors.fetchCron;
    if (this.#cron || !expr) return;
    this.#cron = cron.schedule(expr, () => void this.refreshAll(), { name: "chart-mirrors", noOverlap: true });
  }
}
