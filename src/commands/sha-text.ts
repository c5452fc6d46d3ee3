/**
 * The sentences people read about chart versions, made from the data src/charts/ returns (an
 * answer's relation, a version explanation). `sha`, `why` and the deploy commands use them.
 */

import { PUBLISH_DELAY, type ShaAnswer, type VersionExplanation } from "../charts/answer/types.ts";

const short = (sha: string, n = 8) => sha.slice(0, n);

/** One or two sentences: why the answer's chart commit is what it is. */
export function reasonText(a: ShaAnswer): string {
  const h = (s: string) => short(s, a.hashLength);
  const prText = a.pr ? ` (#${a.pr})` : "";
  const { commit, chartCommit, builtCommit } = a;
  switch (a.relation) {
    case "tag":
      return chartCommit === commit
        ? `${h(commit)} carries the tag ${a.why.viaTag}, newer than the last change to the chart paths: chartpress takes the tag.`
        : `chartpress took the tag ${a.why.viaTag} (on ${h(chartCommit)}), newer than the last change to the chart paths.`;
    case "chart-commit":
      return a.why.onFirstParent
        ? `${h(commit)} is itself the last commit that changed the chart paths.`
        : `${h(commit)} is a PR-branch commit; CI built its merge ${h(builtCommit)}${prText}, whose chart commit is ${h(commit)} itself.`;
    case "pr-branch":
      return `${h(commit)} is a commit on a PR branch; CI never built it alone. It was merged by ${h(builtCommit)}${prText}, and the chart built there is from ${h(chartCommit)}, the last commit that changed the chart paths.`;
    case "merge-same-as-parent":
      return `${h(commit)} is a merge${prText} whose chart paths are identical to its parent ${h(a.why.parent ?? "")} (the PR's last commit), so git follows that parent: the chart commit is ${h(chartCommit)}, not the merge.`;
    case "outside-chart-paths":
      return a.why.merge
        ? `${h(commit)} is a merge${prText} that changed nothing under the chart paths; the chart is still the one from ${h(chartCommit)}.`
        : `${h(commit)} changed only files outside the chart paths; the chart is still the one from ${h(chartCommit)}, the last commit that changed them.`;
  }
}

/** One or two sentences: what a (pinned) chart version names, and which version was meant. */
export function explanationText(x: VersionExplanation): string {
  const { version } = x;
  switch (x.kind) {
    case "published":
      return `${version} is published${x.published?.created ? ` (created ${x.published.created})` : ""}.`;
    case "no-sha":
      return `${version} is not in the chart index, and it names no commit (it has no hash in it).`;
    case "unknown-sha":
      return `${version} is not in the chart index: ${x.lookupError ?? ""}`;
  }
  const commit = x.sha ?? "";
  const a = x.correct;
  if (!a) return `${version} names ${short(commit)}, which is not merged into ${x.branch}: no chart is built until it is merged.`;
  const pub = a.published ? `, published ${a.publishedAt ?? ""}`.replace(/, published $/, ", published") : ", not published yet";
  switch (x.kind) {
    case "merge-commit":
      return `${version} names ${short(commit)}, the merge commit${a.pr ? ` of #${a.pr}` : ""}; its chart is ${a.version}${pub}.`;
    case "pr-branch":
      return `${version} names ${short(commit)}, a commit on the branch of ${a.pr ? `#${a.pr}` : "a PR"} (merged as ${short(a.builtCommit)}); its chart is ${a.version}${pub}.`;
    case "not-chart-commit":
      return `${version} names ${short(commit)}, a commit that is not the chart commit; its chart is ${a.version}${pub}.`;
    case "wrong-format":
      return `${version} names the right commit (${short(commit)}), but the chart was published as ${a.version}${pub}.`;
    case "not-published-yet":
      return `${version} names the chart commit ${short(commit)}, but no chart for it is in the index yet (merged ${a.minutesSinceMerge} min ago; publishing usually takes ~${PUBLISH_DELAY.medianMin} min, 90% within ${PUBLISH_DELAY.p90Min}).`;
  }
}
