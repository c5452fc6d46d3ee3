import { ShaError, short } from "../errors.ts";
import { commitInfo } from "../git/repo.ts";
import { resolveSha } from "../git/resolve-ref.ts";
import { parseChartVersion } from "../index/version-format.ts";
import { answerFor } from "./assemble.ts";
import { type Chart, snapshot } from "./chart.ts";
import { PUBLISH_DELAY, type ShaAnswer, type VersionExplanation } from "./types.ts";

/**
 * For a pinned version missing from the index (or any version): which commit it names and which
 * version the person most likely meant.
 */
export async function explainVersion(chart: Chart, version: string): Promise<VersionExplanation> {
  const snap = await snapshot(chart);
  const entry = snap?.byVersion(chart.cfg.name, version) ?? null;
  const parts = parseChartVersion(version);
  if (entry) {
    let sha: string | null = null;
    if (parts.sha) sha = await resolveSha(chart.repo, parts.sha).catch(() => null);
    return {
      published: entry,
      sha,
      kind: "published",
      correct: null,
      message: `${version} is published${entry.created ? ` (created ${entry.created})` : ""}.`,
    };
  }
  if (!parts.sha) {
    return {
      published: null,
      sha: null,
      kind: "no-sha",
      correct: null,
      message: `${version} is not in the chart index, and it names no commit (it has no hash in it).`,
    };
  }
  let commit: string;
  try {
    commit = await resolveSha(chart.repo, parts.sha);
  } catch (e) {
    const why = e instanceof ShaError ? e.message : (e as Error).message;
    return {
      published: null,
      sha: null,
      kind: "unknown-sha",
      correct: null,
      message: `${version} is not in the chart index: ${why}`,
    };
  }
  let answer: ShaAnswer;
  try {
    answer = await answerFor(chart, commit, snap, null);
  } catch (e) {
    if (e instanceof ShaError && e.code === "not-merged") {
      return {
        published: null,
        sha: commit,
        kind: "pr-branch",
        correct: null,
        message: `${version} names ${short(commit)}, which is not merged into ${await chart.repo.mirror.branch()}: no chart is built until it is merged.`,
      };
    }
    throw e;
  }
  const pub = answer.published
    ? `, published ${answer.publishedAt ?? ""}`.replace(/, published $/, ", published")
    : ", not published yet";
  if (answer.chartCommit !== commit) {
    const builtIsMerge = answer.builtCommit === commit && (await commitInfo(chart.repo, commit)).parents.length > 1;
    const kind: VersionExplanation["kind"] =
      answer.relation === "pr-branch" ? "pr-branch" : builtIsMerge ? "merge-commit" : "not-chart-commit";
    const what =
      kind === "merge-commit"
        ? `the merge commit${answer.pr ? ` of #${answer.pr}` : ""}`
        : kind === "pr-branch"
          ? `a commit on the branch of ${answer.pr ? `#${answer.pr}` : "a PR"} (merged as ${short(answer.builtCommit)})`
          : "a commit that is not the chart commit";
    return {
      published: null,
      sha: commit,
      kind,
      correct: answer,
      message: `${version} names ${short(commit)}, ${what}; its chart is ${answer.version}${pub}.`,
    };
  }
  if (answer.published) {
    return {
      published: null,
      sha: commit,
      kind: "wrong-format",
      correct: answer,
      message: `${version} names the right commit (${short(commit)}), but the chart was published as ${answer.version}${pub}.`,
    };
  }
  return {
    published: null,
    sha: commit,
    kind: "not-published-yet",
    correct: answer,
    message: `${version} names the chart commit ${short(commit)}, but no chart for it is in the index yet (merged ${answer.minutesSinceMerge} min ago; publishing usually takes ~${PUBLISH_DELAY.medianMin} min, 90% within ${PUBLISH_DELAY.p90Min}).`,
  };
}
