import type { Store } from "../store/store.ts";

/** One diagnosed run, as kept in the store. */
export interface HistoryEntry {
  runId: string;
  runUrl: string;
  sha: string;
  branch: string | null;
  /** Workflow file (GitHub Actions), null for Travis. */
  workflow: string | null;
  /** When the run was created (orders runs; not when it was diagnosed). */
  runAt: string;
  /** When the bot diagnosed it. */
  at: string;
  verdict: "spurious" | "legitimate" | "success" | "unknown";
  /** Signature id, null for success/unknown. */
  signature: string | null;
  title: string | null;
}

export interface SignatureCount {
  signature: string;
  title: string | null;
  verdict: HistoryEntry["verdict"];
  count: number;
}

export interface Stats {
  runs: number;
  failures: number;
  successes: number;
  unclassified: number;
  bySignature: SignatureCount[];
  /** Oldest and newest run times covered. */
  from: string | null;
  to: string | null;
}

/**
 * Each verdict, per repository, under one store key (`ci:history:<owner/name>`): newest runs last,
 * at most `limit` entries, one per run id (diagnosing a run again replaces its entry).
 */
export class VerdictHistory {
  constructor(
    private readonly store: Store,
    private readonly limit = 500,
  ) {}

  key(repo: string): string {
    return `ci:history:${repo.toLowerCase()}`;
  }

  async record(repo: string, entry: HistoryEntry): Promise<void> {
    await this.store.update<HistoryEntry[]>(this.key(repo), (cur) => {
      const list = (cur ?? []).filter((e) => e.runId !== entry.runId);
      list.push(entry);
      list.sort(byRunTime);
      return list.slice(-this.limit);
    });
  }

  async all(repo: string): Promise<HistoryEntry[]> {
    return [...((await this.store.get<HistoryEntry[]>(this.key(repo))) ?? [])].sort(byRunTime);
  }

  async get(repo: string, runId: string): Promise<HistoryEntry | undefined> {
    return (await this.all(repo)).find((e) => e.runId === runId);
  }

  /**
   * How many runs in a row, ending with `runId`, failed with the same signature, looking only at
   * runs on the same branch (a success, or a failure for another reason, ends the streak).
   */
  async streak(repo: string, runId: string): Promise<{ count: number; runs: HistoryEntry[] }> {
    const all = await this.all(repo);
    const i = all.findIndex((e) => e.runId === runId);
    if (i < 0) return { count: 0, runs: [] };
    const me = all[i] as HistoryEntry;
    if (!me.signature) return { count: 1, runs: [me] };
    const runs = [me];
    for (let j = i - 1; j >= 0; j--) {
      const e = all[j] as HistoryEntry;
      if (e.branch !== me.branch || e.workflow !== me.workflow) continue;
      if (e.signature !== me.signature) break;
      runs.push(e);
    }
    return { count: runs.length, runs };
  }

  /** Failures per signature over the last `last` recorded runs (all branches, or one). */
  async stats(repo: string, last: number, branch?: string): Promise<Stats> {
    const all = (await this.all(repo)).filter((e) => branch === undefined || e.branch === branch);
    return tally(all.slice(-last));
  }
}

/** Failures per signature, unclassified and successes over a list of entries. */
export function tally(entries: readonly HistoryEntry[]): Stats {
  const window = [...entries].sort(byRunTime);
  const counts = new Map<string, SignatureCount>();
  let unclassified = 0;
  let successes = 0;
  for (const e of window) {
    if (e.verdict === "success") {
      successes++;
      continue;
    }
    if (e.verdict === "unknown" || !e.signature) {
      unclassified++;
      continue;
    }
    const c = counts.get(e.signature) ?? { signature: e.signature, title: e.title, verdict: e.verdict, count: 0 };
    c.count++;
    counts.set(e.signature, c);
  }
  return {
    runs: window.length,
    failures: window.length - successes,
    successes,
    unclassified,
    bySignature: [...counts.values()].sort((a, b) => b.count - a.count || a.signature.localeCompare(b.signature)),
    from: window[0]?.runAt ?? null,
    to: window.at(-1)?.runAt ?? null,
  };
}

function byRunTime(a: HistoryEntry, b: HistoryEntry): number {
  return a.runAt.localeCompare(b.runAt) || compareIds(a.runId, b.runId);
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || a.localeCompare(b);
}
