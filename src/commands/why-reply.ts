import { effectiveVerdict, type JobDiagnosis } from "../ci/diagnose-run.ts";
import { type CiError, type CiKind, type CiRun, formatBytes, type PullInfo } from "../ci/provider.ts";
import { clip, errorLine } from "../core/one-line.ts";
import {
  type Block,
  code,
  codeBlock,
  fail,
  fields,
  type Inline,
  link,
  list,
  ok,
  para,
  type Reply,
  strong,
} from "../core/reply.ts";

/** The fields every answer about one run carries in `data`. */
export type RunData = Record<string, unknown>;

export function runData(run: CiRun, provider: CiKind, pr: number | null): RunData {
  return { runId: run.id, runUrl: run.url, sha: run.sha, branch: run.branch, provider, ...(pr ? { pr } : {}) };
}

/** `why` alone, and none of the recent runs failed. */
export function noFailedRunReply(ci: CiKind, workflow: string, branch: string): Reply {
  const where = ci === "travis" ? `the ${branch} branch` : `${workflow} on ${branch}`;
  return fail(`No failed run found: none of the recent ${ciName(ci)} runs of ${where} failed.`, [], { verdict: null });
}

export function prNoRunsReply(ci: CiKind, pr: PullInfo): Reply {
  return fail(
    `#${pr.number} has no ${ciName(ci)} runs (head ${pr.headSha.slice(0, 7)}${pr.mergeSha ? `, merge ${pr.mergeSha.slice(0, 7)}` : ""}).`,
    [],
    { pr: pr.number, verdict: null },
  );
}

export function prNoFailureReply(pr: PullInfo, runs: CiRun[]): Reply {
  const running = runs.filter((r) => r.conclusion === "running").length;
  return ok(
    [
      para(
        `None of the ${runs.length} run${runs.length === 1 ? "" : "s"} of #${pr.number} failed`,
        running ? ` (${running} still running)` : "",
        ": ",
        ...joinInline(runs.slice(0, 5).map((r) => [link(r.url, `${r.name} ${r.conclusion}`)])),
        ".",
      ),
    ],
    { pr: pr.number, verdict: "success", runs: runs.map((r) => ({ runId: r.id, runUrl: r.url, conclusion: r.conclusion })) },
  );
}

export function stillRunningReply(run: CiRun, base: RunData): Reply {
  return ok([para(runLabel(run), " is still running; ask again when it has finished.")], { ...base, verdict: null });
}

export function notFailedReply(run: CiRun, base: RunData): Reply {
  return ok(
    [para(runLabel(run), ` did not fail: it ended ${run.conclusion === "other" ? "without failing" : `as ${run.conclusion}`}.`)],
    { ...base, verdict: run.conclusion === "success" ? "success" : null },
  );
}

export function logsUnavailableReply(run: CiRun, base: RunData, err: CiError): Reply {
  return fail(`The logs of ${textLabel(run)} are unavailable: ${err.message}.`, [], { ...base, error: "logs-unavailable" });
}

/** A failed run none of whose jobs failed (or not the job asked about). */
export function noFailedJobReply(run: CiRun, base: RunData, onlyJob: string | null): Reply {
  return fail(
    onlyJob
      ? `Job ${onlyJob} is not among the failed jobs of ${textLabel(run)}.`
      : `${textLabel(run)} failed, but none of its jobs did (it may have failed before any job started); see ${run.url}`,
    [],
    { ...base, verdict: null },
  );
}

export interface VerdictAnswer {
  run: CiRun;
  base: RunData;
  /** The diagnosed failed jobs, most decisive first (at least one). */
  results: JobDiagnosis[];
  /** Failed jobs whose logs could not be read. */
  errors: CiError[];
  /** Runs in a row that failed with this signature (1 when not spurious). */
  streak: number;
  /** What to say to re-run it (`<prefix> retry <id>`), when a `retry` command exists. */
  retryCommand: string | null;
  /** The missing chart version, explained. */
  chart: { blocks: Block[]; data: Record<string, unknown> } | null;
}

/** The answer for a diagnosed failed run: verdict, decisive line, what to do, and the rest. */
export function verdictReply(a: VerdictAnswer): Reply {
  const { run, results, errors, streak } = a;
  const top = results[0] as JobDiagnosis;
  const v = top.verdict;
  const kind = effectiveVerdict(v);
  const sig = v.signature;

  const blocks: Block[] = [];
  const head: Inline[] = [runLabel(run), " failed: ", strong(kind)];
  if (sig) head.push(" — ", sig.title, " (", code(sig.id), ")");
  blocks.push(para(...head));

  const lineNo = top.line ?? top.lineInTail;
  const lineText = v.text ? clip(v.text, 300) : null;
  const entries: Array<[string, Inline | Inline[]]> = [];
  if (lineText !== null && lineNo !== null) {
    const where = top.line !== null ? `line ${lineNo}` : `line ${lineNo} of the last ${formatBytes(top.log.bytes)}`;
    entries.push(["Decisive line", [link(top.job.url, where), ": ", code(lineText)]]);
  } else entries.push(["Job", link(top.job.url, top.job.name)]);
  if (top.step) entries.push(["Failing step", top.step]);
  if (lineText !== null) entries.push(["Job", link(top.job.url, top.job.name)]);

  // A spurious cause failing run after run is not spurious any more.
  const repeat = kind === "spurious" && streak >= 2;
  let nextStep: Inline[];
  if (repeat) {
    nextStep = [
      strong(`the ${ordinal(streak)} run in a row that failed with ${sig?.id}`),
      ": this is no longer a one-off, so do not just re-run. Investigate what keeps failing",
      v.advice ? ` (${clip(v.advice, 300)})` : "",
      ".",
    ];
  } else if (kind === "spurious") {
    nextStep = [
      "re-run the failed jobs (",
      link(run.url, "run page"),
      ")",
      ...(a.retryCommand ? [" or say ", code(a.retryCommand)] : []),
      v.advice ? `. ${clip(v.advice, 300)}` : ".",
    ];
  } else if (kind === "legitimate") {
    nextStep = [v.advice ? clip(v.advice, 400) : "fix the cause; re-running will fail the same way."];
  } else {
    nextStep = [
      "I could not classify this failure; read the lines before the failure below",
      v.advice ? ` (${clip(v.advice, 200)})` : "",
      ".",
    ];
  }
  entries.push(["What to do", nextStep]);
  entries.push(["Confidence", confidenceText(v.confidence)]);
  blocks.push(fields(entries));

  if (a.chart) blocks.push(...a.chart.blocks);
  if (kind === "unknown" && v.context?.length) {
    blocks.push(
      para("The last lines before the failure:"),
      codeBlock(
        v.context
          .slice(-12)
          .map((l) => clip(l, 200))
          .join("\n"),
      ),
    );
  }
  if (top.log.truncated) {
    blocks.push(
      para(
        `(The log is ${top.log.totalBytes ? formatBytes(top.log.totalBytes) : "large"}; I read its last ${formatBytes(top.log.bytes)}.)`,
      ),
    );
  }
  const others = results.slice(1);
  if (others.length > 0) {
    blocks.push(
      para("Other failed jobs:"),
      list(
        others.map((o) => [
          link(o.job.url, o.job.name),
          `: ${effectiveVerdict(o.verdict)}`,
          o.verdict.signature ? ` (${o.verdict.signature.id})` : "",
        ]),
      ),
    );
  }
  if (errors.length > 0)
    blocks.push(
      para(
        `(${errors.length} more failed job log${errors.length === 1 ? "" : "s"} could not be read: ${errorLine(errors[0], 300)})`,
      ),
    );

  return ok(blocks, {
    ...a.base,
    runNumber: run.number,
    verdict: kind,
    signature: sig?.id ?? null,
    category: sig?.category ?? null,
    title: sig?.title ?? null,
    line: lineNo,
    lineExact: top.line !== null,
    text: v.text ?? null,
    step: top.step,
    advice: v.advice ?? null,
    confidence: v.confidence ?? null,
    job: { id: top.job.id, name: top.job.name, url: top.job.url },
    streak,
    repeated: repeat,
    retrySuggested: kind === "spurious" && !repeat,
    truncated: top.log.truncated,
    context: kind === "unknown" ? (v.context ?? []) : [],
    chart: a.chart?.data ?? null,
    otherJobs: others.map((o) => ({
      id: o.job.id,
      name: o.job.name,
      verdict: effectiveVerdict(o.verdict),
      signature: o.verdict.signature?.id ?? null,
    })),
  });
}

function ciName(ci: CiKind): string {
  return ci === "travis" ? "Travis CI" : "GitHub Actions";
}

export function runLabel(run: CiRun): Inline {
  return link(run.url, textLabel(run));
}

export function textLabel(run: CiRun): string {
  const n = run.number !== null ? ` #${run.number}` : ` ${run.id}`;
  const what = run.provider === "travis" ? `Travis build${n}` : `${run.name}${n}`;
  return `${what} (${run.branch ?? "?"}, ${run.sha.slice(0, 7)})`;
}

function confidenceText(c: unknown): string {
  if (typeof c === "number") {
    const pct = c <= 1 ? Math.round(c * 100) : Math.round(c);
    return `${pct <= 40 ? "low" : pct < 75 ? "medium" : "high"} (${pct}%)`;
  }
  return c == null ? "unknown" : String(c);
}

function ordinal(n: number): string {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] ?? s[v] ?? s[0]}`;
}

function joinInline(items: Inline[][]): Inline[] {
  return items.flatMap((x, i) => (i === 0 ? x : [", ", ...x]));
}
