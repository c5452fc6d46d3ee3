/**
 * The sentences people read about chart versions, made from the data src/charts/ returns (an
 * answer's relation, a version explanation, a ShaError's problem). `sha`, `why` and the deploy
 * commands use them.
 */

import { PUBLISH_DELAY, type ShaAnswer, type VersionExplanation } from "../charts/answer/types.ts";
import { ShaError, type ShaProblem } from "../charts/errors.ts";
import type { Generation } from "../charts/rule/chartpress.ts";
import type { Builder } from "../charts/rule/compute.ts";
import { errorLine } from "../core/one-line.ts";

const short = (sha: string, n = 8) => sha.slice(0, n);

/** "3 min", "2 h 5 min", "4 days" — how old a copy is, for chat. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.round(h / 24)} days`;
}

/** Which chartpress generation built a chart, as `sha` names it. */
const GENERATION_LABEL: Record<Generation, string> = {
  0: "chartpress < 0.4 (or the vendored build.py)",
  1: "chartpress 0.4",
  2: "chartpress 0.5",
  3: "chartpress 0.6",
  4: "chartpress 0.7 – 1.x",
  5: "chartpress >= 2.0",
};

/** What built the chart: "chartpress >= 2.0 (chartpress>=2.1 in .github/workflows/publish.yml)", or the 2017 script. */
export function builderText(b: Builder): string {
  if (b.script !== null) return `the vendored ${b.script} (before chartpress.yaml)`;
  const label = GENERATION_LABEL[b.generation];
  return b.spec ? `${label} (${b.spec}${b.file ? ` in ${b.file}` : ""})` : label;
}

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

/** What the person should know about how the answer was found (e.g. GitHub was unreachable). */
export function notesText(a: ShaAnswer): string[] {
  const f = a.foundWithoutGitHub;
  return f ? [`${f.githubError}; found the merge of #${f.pr} in the history instead.`] : [];
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
      return `${version} is not in the chart index: ${x.lookupError instanceof ShaError ? shaErrorText(x.lookupError) : (x.lookupError?.message ?? "")}`;
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

/** One clear line for a ShaError (a chart question that cannot be answered). */
export function shaErrorText(e: ShaError): string {
  return problemText(e.problem);
}

/** A failure of a chart question as one line: a ShaError's sentence, any other error's first line. */
export function chartErrorLine(e: unknown): string {
  return e instanceof ShaError ? shaErrorText(e) : errorLine(e);
}

/** Lines to show under the error: an ambiguous hash's candidates (hash, date, subject). */
export function shaErrorDetail(e: ShaError): string[] {
  if (e.problem.kind !== "ambiguous") return [];
  return e.problem.candidates.map((c) => `${short(c.sha, 12)} ${c.date.slice(0, 10)} ${c.subject.slice(0, 60)}`);
}

function problemText(p: ShaProblem): string {
  switch (p.kind) {
    case "not-a-hash":
      return `'${p.input}' is not a commit hash.`;
    case "no-commit":
      return `No commit ${p.sha} in ${p.repo}.`;
    case "unknown-commit":
      return p.fetchError === null
        ? `No commit ${p.prefix} in ${p.repo} (not on any branch or tag, even after a fetch).`
        : `No commit ${p.prefix} in the mirror of ${p.repo}, and Cannot fetch ${p.repo}: ${p.fetchError}`;
    case "ambiguous":
      return `${p.prefix} is ambiguous in ${p.repo}: ${p.shas.length} commits start with it; give more characters.`;
    case "no-branch":
      return `There is no branch or tag '${p.name}' in ${p.repo}.`;
    case "pr-elsewhere":
      return `That PR is in ${p.prRepo}, but the ${p.chart} chart is built from ${p.repo}.`;
    case "github":
      return p.line;
    case "pr-not-merged":
      return p.state === "closed"
        ? `PR #${p.pr} was closed without being merged: there is no chart for it.`
        : `PR #${p.pr} is not merged yet: there is no chart for it until it is merged.`;
    case "pr-merge-missing":
      return `PR #${p.pr} was merged as ${short(p.sha)}, but that commit is not in ${p.repo} yet.`;
    case "clone-failed":
      return `Cannot clone ${p.repo} (${p.chart}): ${p.error}`;
    case "fetch-failed":
      return `Cannot fetch ${p.repo}: ${p.error}`;
    case "no-chartpress":
      return `There is no chartpress.yaml (nor a build.py) next to ${p.chart}/Chart.yaml in ${p.fixedDir ?? "the root or a top-level folder"} at ${short(p.commit)}: no ${p.chart} chart was built from that commit.`;
    case "unreadable-build-script":
      return `At ${short(p.commit)} the ${p.chart} chart was built by ${p.script}, a script whose chart paths cannot be read: no version is guessed.`;
    case "bad-chartpress-yaml":
      return `At ${short(p.commit)}: ${p.error}.`;
    case "no-chart-change":
      return `No commit up to ${short(p.commit)} touches the chart paths (${p.paths.join(", ")}).`;
    case "not-merged": {
      const where = [...p.prs.slice(0, 3).map((n) => `PR #${n}`), ...p.branches.slice(0, 3)];
      return `${short(p.commit)} is not merged into ${p.branch}${where.length ? ` (it is on ${where.join(", ")})` : ""}: there is no chart for it until it is merged.`;
    }
    case "unknown-chart":
      return `There is no chart '${p.chart}' configured (charts: ${p.charts.join(", ")}).`;
  }
}
