import type { Store } from "../store/store.ts";

/** What happened to one retry request. */
export type RetryOutcome =
  /** the re-run was started; its end is not known yet */
  | "started"
  /** the new attempt passed / failed again / ended otherwise (cancelled) */
  | "success"
  | "failure"
  | "ended"
  /** followed for retry.followMinutes without an end */
  | "not-followed"
  /** the bot did not start it: verdict legitimate, budget, in progress, green, too old */
  | "refused"
  /** the CI refused or failed the re-run request */
  | "error";

/** One line of the audit ledger: who asked to retry which run, when, with which verdict, and what came of it. */
export interface LedgerEntry {
  /** Unique id (time + run), to update the outcome later. */
  id: string;
  /** ISO time of the request. */
  at: string;
  /** `platform:userId` of who asked (and confirmed, when forced). */
  who: string;
  /** `platform:room` it was asked in. */
  room: string;
  provider: string;
  runId: string;
  runUrl: string;
  scope: "failed" | "all";
  /** The `why` verdict at the time (null: not diagnosed, e.g. refused before). */
  verdict: string | null;
  signature: string | null;
  forced: boolean;
  outcome: RetryOutcome;
  /** One line: why refused, the error, or how it ended. */
  detail: string | null;
  /** ISO time the outcome was last set. */
  updatedAt: string;
}

/** The outcomes that spent a retry (the re-run was started). */
const SPENT: ReadonlySet<RetryOutcome> = new Set(["started", "success", "failure", "ended", "not-followed"]);

/**
 * The retry audit ledger of one deploy repository, in the store (one list under one key, newest last,
 * at most `max` entries). Budgets are counted from it, so they hold across restarts and replicas
 * sharing a Redis store.
 */
export class RetryLedger {
  readonly #key: string;

  constructor(
    private readonly store: Store,
    repo: string,
    private readonly max = 500,
  ) {
    this.#key = `retry:ledger:${repo}`;
  }

  async add(entry: LedgerEntry): Promise<void> {
    await this.store.update<LedgerEntry[]>(this.#key, (cur) => [...(cur ?? []), entry].slice(-this.max));
  }

  /** Sets the outcome of an entry (the new attempt ended, or the re-run request failed). */
  async settle(id: string, outcome: RetryOutcome, detail: string | null, at: Date): Promise<void> {
    await this.store.update<LedgerEntry[]>(this.#key, (cur) =>
      (cur ?? []).map((e) => (e.id === id ? { ...e, outcome, detail, updatedAt: at.toISOString() } : e)),
    );
  }

  /** Newest first. */
  async recent(limit: number): Promise<LedgerEntry[]> {
    const all = (await this.store.get<LedgerEntry[]>(this.#key)) ?? [];
    return all.slice(-limit).reverse();
  }

  /** Retries started of one run, and in the repository since `since`. */
  async spent(runId: string, provider: string, since: Date): Promise<{ run: number; window: LedgerEntry[] }> {
    const all = ((await this.store.get<LedgerEntry[]>(this.#key)) ?? []).filter((e) => SPENT.has(e.outcome));
    return {
      run: all.filter((e) => e.runId === runId && e.provider === provider).length,
      window: all.filter((e) => Date.parse(e.at) >= since.getTime()),
    };
  }
}
