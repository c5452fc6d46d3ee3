import type { ChartConfig } from "../../config/schema.ts";
import { errorLine } from "../../core/one-line.ts";
import type { Repo } from "../git/repo.ts";
import type { ChartIndex, IndexSnapshot } from "../index/chart-index.ts";
import type { ChartRule } from "../rule/compute.ts";

/**
 * One configured chart as the answer layer uses it: fixed when the chart is first used. Its state is
 * owned by the objects it names (the mirror and its History, the rule's cache, the index), never by
 * this record.
 */
export interface Chart {
  readonly cfg: ChartConfig;
  readonly repo: Repo;
  readonly rule: ChartRule;
  readonly index: ChartIndex;
}

/** The chart index, or null (logged) when there is no copy of it at all. */
export async function snapshot(chart: Chart): Promise<IndexSnapshot | null> {
  try {
    return await chart.index.get();
  } catch (e) {
    chart.repo.log.warn({ chart: chart.cfg.name, err: errorLine(e) }, "chart index unavailable");
    return null;
  }
}
