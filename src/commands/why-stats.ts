import type { RunDiagnoser } from "../ci/diagnose-run.ts";
import { type HistoryEntry, tally } from "../ci/history.ts";
import { CiError, type CiProvider } from "../ci/provider.ts";
import { errorLine } from "../core/one-line.ts";
import { type Block, code, list, ok, para, type Reply, strong } from "../core/reply.ts";

export interface StatsSources {
  ci: CiProvider;
  diagnoser: RunDiagnoser;
  /** The deploy workflow and default branch. */
  workflow: string;
  branch: string;
}

/**
 * `why --stats --last N`: the last N completed runs of the deploy workflow, the failed ones not in the
 * history yet diagnosed (and recorded), counted per cause. Without the CI: the runs diagnosed before.
 */
export async function statsReply(s: StatsSources, last: number): Promise<Reply> {
  let entries: HistoryEntry[];
  let note: string | null = null;
  let unreadable = 0;
  try {
    const runs = await s.ci.recentRuns(s.workflow, s.branch, last);
    entries = [];
    for (const r of runs) {
      if (r.conclusion === "cancelled" || r.conclusion === "other") continue;
      const known = await s.diagnoser.known(r.id);
      if (known) {
        entries.push(known);
        continue;
      }
      const entry = await s.diagnoser.entry(r);
      if (!entry) {
        unreadable++;
        continue;
      }
      await s.diagnoser.recordEntry(entry);
      entries.push(entry);
    }
  } catch (err) {
    if (!(err instanceof CiError)) throw err;
    entries = (await s.diagnoser.recorded()).filter((e) => e.branch === s.branch).slice(-last);
    note = `${errorLine(err, 300)}; these are the ${entries.length} runs I diagnosed before`;
  }
  const t = tally(entries);
  const where = s.ci.kind === "travis" ? s.branch : `${s.workflow} on ${s.branch}`;
  const blocks: Block[] = [];
  if (note) blocks.push(para(`(${note}.)`));
  if (t.runs === 0 && unreadable === 0) {
    return ok([...blocks, para(`No runs of ${where} to count.`)], { ...t, unreadable });
  }
  blocks.push(
    para(
      `Last ${t.runs + unreadable} runs of ${where}`,
      t.from && t.to ? ` (${t.from.slice(0, 10)} – ${t.to.slice(0, 10)})` : "",
      `: ${t.failures + unreadable} failed, ${t.successes} succeeded.`,
    ),
  );
  if (t.bySignature.length > 0) {
    blocks.push(
      list(t.bySignature.map((c) => [code(c.signature), ` ${c.title ?? ""} (${c.verdict}): `, strong(String(c.count))])),
    );
  }
  blocks.push(para(`Unclassified: ${t.unclassified}`, unreadable ? `; logs unreadable: ${unreadable}` : "", "."));
  return ok(blocks, { ...t, unreadable, last });
}
