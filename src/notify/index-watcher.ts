import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { ChartService } from "../charts/answer/service.ts";
import type { IndexEntry } from "../charts/index/chart-index.ts";
import type { ChartConfig } from "../config/schema.ts";
import { errorLine } from "../core/one-line.ts";
import type { Octokit } from "../github/client.ts";
import type { Store } from "../store/store.ts";
import type { Outbox } from "./outbox.ts";
import { describePublished, type Published, publishedReply, waiterReply } from "./published.ts";
import type { Subscriptions } from "./subscriptions.ts";
import { waiterMatches, waitersOf } from "./waiters.ts";

export interface IndexWatcherOptions {
  charts: readonly ChartConfig[];
  store: Store;
  log: Logger;
  now: () => Date;
  service: () => ChartService;
  github: (() => Octokit) | null;
  outbox: Outbox;
  subscriptions: Subscriptions;
}

/** What the watcher has seen of a chart's index, under `notify:seen:<chart>`. */
interface Seen {
  versions: string[];
}

/** At most this many new versions are described (PR look-ups) in one message; the rest are listed by version. */
const DESCRIBE_MAX = 10;

/**
 * Polls each chart's index (a conditional GET: an unchanged index is a 304 and no parse) and
 * announces entries it has not seen: one message per poll to the rooms subscribed to `charts`, and
 * one to each room with a waiter for that version (in its thread, naming who asked). The first poll
 * on a fresh store records what is there and says nothing. The seen set is written after the
 * messages are in the outbox, so a crash in between re-announces under the same dedupe key (sent once).
 */
export class IndexWatcher {
  constructor(private readonly o: IndexWatcherOptions) {}

  async poll(): Promise<void> {
    for (const cfg of this.o.charts) await this.#pollChart(cfg);
  }

  async #pollChart(cfg: ChartConfig): Promise<void> {
    const { store, log } = this.o;
    const index = this.o.service().index(cfg.name);
    try {
      await index.refresh();
    } catch (e) {
      // the source failed: nothing is recorded, so nothing is lost; the next poll tries again
      log.warn({ chart: cfg.name, err: errorLine(e) }, "index poll failed");
      return;
    }
    const snap = await index.get({ maxAgeMs: Number.POSITIVE_INFINITY });
    const entries = snap.versions(cfg.name);
    const key = `notify:seen:${cfg.name}`;
    const seen = await store.get<Seen>(key);
    if (!seen) {
      await store.set<Seen>(key, { versions: entries.map((e) => e.version) });
      log.info(
        { chart: cfg.name, versions: entries.length },
        "index watcher: recorded the published versions; new ones will be announced",
      );
      return;
    }
    const known = new Set(seen.versions);
    const fresh = entries.filter((e) => !known.has(e.version));
    if (fresh.length === 0) return;
    await this.#announce(cfg, fresh);
    await store.set<Seen>(key, { versions: [...seen.versions, ...fresh.map((e) => e.version)] });
  }

  async #announce(cfg: ChartConfig, fresh: IndexEntry[]): Promise<void> {
    const { outbox, subscriptions, store, now, log } = this.o;
    const described: Published[] = [];
    for (const [i, e] of fresh.entries()) {
      described.push(
        i < DESCRIBE_MAX
          ? await describePublished(e, cfg, this.o.service, this.o.github)
          : { chart: e.chart, version: e.version, pr: null, title: null, mergedAt: null },
      );
    }
    log.info({ chart: cfg.name, versions: described.map((p) => p.version) }, "new chart versions published");
    const digest = createHash("sha256")
      .update(
        fresh
          .map((e) => e.version)
          .sort()
          .join("\n"),
      )
      .digest("hex")
      .slice(0, 16);
    await outbox.enqueue(
      `published:${cfg.name}:${digest}`,
      await subscriptions.rooms("charts"),
      publishedReply(described, now()),
    );
    for (const [wkey, w] of await waitersOf(store, cfg.name, now())) {
      const i = fresh.findIndex((e) => waiterMatches(w, e.version, e.sha));
      const p = described[i];
      if (!p) continue;
      const names = w.names?.length ? w.names : w.who;
      await outbox.enqueue(
        `${wkey}:${p.version}`,
        [{ platform: w.platform, room: w.room, thread: w.thread }],
        waiterReply(p, names, now()),
      );
      await store.delete(wkey);
    }
  }
}
