import { ShaError } from "../errors.ts";
import { commitInfo } from "../git/repo.ts";
import { resolveSha } from "../git/resolve-ref.ts";
import { parseChartVersion } from "../index/version-format.ts";
import { answerFor } from "./assemble.ts";
import { type Chart, snapshot } from "./chart.ts";
import type { ShaAnswer, VersionExplanation } from "./types.ts";

/**
 * For a pinned version missing from the index (or any version): which commit it names and which
 * version the person most likely meant (src/commands/sha-text.ts says it in words).
 */
export async function explainVersion(chart: Chart, version: string): Promise<VersionExplanation> {
  const snap = await snapshot(chart);
  const entry = snap?.byVersion(chart.cfg.name, version) ?? null;
  const parts = parseChartVersion(version);
  const none = { version, published: null, sha: null, correct: null, branch: null, lookupError: null };
  if (entry) {
    let sha: string | null = null;
    if (parts.sha) sha = await resolveSha(chart.repo, parts.sha).catch(() => null);
    return { ...none, published: entry, sha, kind: "published" };
  }
  if (!parts.sha) return { ...none, kind: "no-sha" };
  let commit: string;
  try {
    commit = await resolveSha(chart.repo, parts.sha);
  } catch (e) {
    return { ...none, kind: "unknown-sha", lookupError: e instanceof Error ? e : new Error(String(e)) };
  }
  let answer: ShaAnswer;
  try {
    answer = await answerFor(chart, commit, snap, null);
  } catch (e) {
    if (e instanceof ShaError && e.code === "not-merged") {
      return { ...none, sha: commit, kind: "pr-branch", branch: await chart.repo.mirror.branch() };
    }
    throw e;
  }
  const found = { ...none, sha: commit, correct: answer };
  if (answer.chartCommit !== commit) {
    const builtIsMerge = answer.builtCommit === commit && (await commitInfo(chart.repo, commit)).parents.length > 1;
    const kind = answer.relation === "pr-branch" ? "pr-branch" : builtIsMerge ? "merge-commit" : "not-chart-commit";
    return { ...found, kind };
  }
  return { ...found, kind: answer.published ? "wrong-format" : "not-published-yet" };
}
