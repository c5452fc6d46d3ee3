import { pinnedVersion as pinFromText } from "../charts/pin.ts";
import type { VersionExplanation } from "../charts/service.ts";
import { type HistoryEntry, tally, VerdictHistory } from "../ci/history.ts";
import { CiError, type CiJob, type CiProvider, type CiRun, formatBytes, type JobLog } from "../ci/provider.ts";
import type { CommandContext, CommandSpec } from "../core/command.ts";
import { type Block, code, codeBlock, fail, fields, type Inline, link, list, ok, para, strong } from "../core/reply.ts";
import { diagnose, type Verdict } from "../diagnose/index.ts";
import type { Services } from "../services.ts";

type Ctx = CommandContext<Services>;
type VerdictKind = Verdict["verdict"];

/** Jobs of one run whose logs are read (a deploy has a few; a matrix could have many). */
const MAX_JOBS = 4;
/** Earlier runs diagnosed to tell a streak from a one-off. */
const STREAK_LOOKBACK = 3;
const DEFAULT_STATS_RUNS = 20;

type Target = { kind: "latest" } | { kind: "pr"; number: number } | { kind: "run"; ref: string };

/** `why` / `why #254` / `why <run URL or id>`. PR numbers are short; run ids are long (≥ 7 digits). */
export function parseTarget(raw: string | undefined, deployRepo: string): Target | { error: string } {
  const s = (raw ?? "").trim().replace(/^<|>$/g, "");
  if (s === "") return { kind: "latest" };
  const hash = /^(?:pr\s*)?#?(\d{1,6})$/i.exec(s);
  if (hash) return { kind: "pr", number: Number(hash[1]) };
  const prUrl = /^https?:\/\/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)(?:[/?#]\S*)?$/i.exec(s);
  if (prUrl) {
    if ((prUrl[1] as string).toLowerCase() !== deployRepo.toLowerCase())
      return { error: `that pull request is in ${prUrl[1]}; I diagnose the deploys of ${deployRepo}` };
    return { kind: "pr", number: Number(prUrl[2]) };
  }
  if (/^\d{7,20}$/.test(s) || /^https?:\/\/\S+$/i.test(s)) return { kind: "run", ref: s };
  return { error: `'${s.length > 60 ? `${s.slice(0, 57)}…` : s}' is not a PR (#254), a run URL or a run id` };
}

interface JobDiagnosis {
  job: CiJob;
  log: JobLog;
  verdict: Verdict;
  /** Line number in the whole log, when known. */
  line: number | null;
  /** Line number within the part of the log read, when the whole-log number is not known. */
  lineInTail: number | null;
  step: string | null;
}

const RANK: Record<VerdictKind, number> = { legitimate: 0, spurious: 1, unknown: 2, success: 3 };

export const why: CommandSpec<Services> = {
  name: "why",
  summary: "Why a deploy failed: spurious (re-run it) or legitimate (fix it)",
  description:
    "Reads the failed jobs' logs of a deploy run and classifies the failure: spurious (transient; re-run the failed jobs), legitimate (re-running will fail again; what to fix), or unknown. Without an argument: the latest failed run of the deploy workflow on the default branch. With a PR (#254): the runs of its commits. With a run URL or run id: that run. A pinned chart version that does not exist is looked up in the chart index, with the version that was most likely meant. --stats counts failures per cause over the last runs.",
  args: [
    {
      name: "target",
      type: "string",
      description: "a PR of the deploy repository (#254), a run URL or a run id; default: the latest failed deploy",
    },
  ],
  flags: [
    { name: "stats", type: "boolean", description: "failures per cause over the last runs of the deploy workflow" },
    { name: "last", type: "int", description: `how many runs --stats looks at (default ${DEFAULT_STATS_RUNS})` },
  ],
  examples: [
    "why",
    "why #254",
    "why https://github.com/jupyterhub/mybinder.org-deploy/actions/runs/11497830145",
    "why --stats --last 30",
  ],
  access: "anyone",
  sideEffects: null,
  intents: [
    { pattern: /^why did (?:pr\s*)?(?<target>#\d{1,6}|https?:\/\/\S+|\d{7,20}) fail\b/i, example: "why did #254 fail?" },
    {
      pattern:
        /^why (?:did|has|does|is) (?:the |that |this |my |our |it )?(?:last |latest |most recent |recent )?(?:staging |prod(?:uction)? )?(?:deploy(?:ment)?|build|run|ci|travis|cd|job)?\s*(?:just |again )?(?:fail|failing|broken|red)/i,
      example: "why did the deploy fail?",
      args: () => [],
    },
    {
      pattern:
        /^(?:was|is) (?:that|the|this|it)\s*(?:last |latest )?(?:deploy(?:ment)? |build |ci |run |travis )?(?:failure |fail |error )?(?:spurious|legitimate|real|flaky|transient)\b/i,
      example: "was that failure spurious?",
      args: () => [],
    },
  ],
  async run(ctx, { args, flags }) {
    const d = ctx.services.config.deploy;
    try {
      if (flags.stats === true) {
        if (args.target !== undefined)
          return fail("--stats looks at the last runs of the deploy workflow; it takes no run or PR.");
        const last = typeof flags.last === "number" ? flags.last : DEFAULT_STATS_RUNS;
        if (last < 1 || last > 200) return fail("--last takes a number of runs from 1 to 200.");
        return await stats(ctx, last);
      }
      if (flags.last !== undefined) return fail("--last goes with --stats (e.g. `why --stats --last 30`).");
      const target = parseTarget(args.target as string | undefined, d.github);
      if ("error" in target) return fail(`${target.error}.`);
      return await whyTarget(ctx, target);
    } catch (err) {
      if (err instanceof CiError) return fail(oneLine(err.message), [], { error: err.kind });
      throw err;
    }
  },
};

function history(ctx: Ctx): VerdictHistory {
  return new VerdictHistory(ctx.services.store, ctx.services.config.deploy.historyLength);
}

function ciName(ci: CiProvider): string {
  return ci.kind === "travis" ? "Travis CI" : "GitHub Actions";
}

async function whyTarget(ctx: Ctx, target: Target): Promise<ReturnType<typeof ok>> {
  const { ci } = ctx.services;
  const d = ctx.services.config.deploy;
  const workflow = d.workflow;

  if (target.kind === "latest") {
    const run = await ci.latestFailedRun(workflow, d.branch);
    if (!run) {
      const where = ci.kind === "travis" ? `the ${d.branch} branch` : `${workflow} on ${d.branch}`;
      return fail(`No failed run found: none of the recent ${ciName(ci)} runs of ${where} failed.`, [], { verdict: null });
    }
    return explainRun(ctx, run, null, null);
  }

  if (target.kind === "run") {
    const run = await ci.run(target.ref);
    const onlyJob = jobIdFromUrl(target.ref);
    return explainRun(ctx, run, onlyJob, null);
  }

  // A PR: its head commit's runs, and once merged, the merge commit's (the deploy ran there).
  const pr = await ci.pull(target.number);
  const shas = [pr.headSha, ...(pr.mergeSha && pr.mergeSha !== pr.headSha ? [pr.mergeSha] : [])];
  const runs: CiRun[] = [];
  for (const sha of shas) {
    for (const r of await ci.runsForCommit(sha, { pr: pr.number })) if (!runs.some((x) => x.id === r.id)) runs.push(r);
  }
  runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (runs.length === 0) {
    return fail(
      `#${pr.number} has no ${ciName(ci)} runs (head ${pr.headSha.slice(0, 7)}${pr.mergeSha ? `, merge ${pr.mergeSha.slice(0, 7)}` : ""}).`,
      [],
      {
        pr: pr.number,
        verdict: null,
      },
    );
  }
  const failed = runs.find((r) => r.conclusion === "failure");
  if (!failed) {
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
  return explainRun(ctx, failed, null, pr.number);
}

function jobIdFromUrl(ref: string): string | null {
  return (
    /\/actions\/runs\/\d+\/job\/(\d+)/i.exec(ref)?.[1] ??
    /travis-ci\.(?:org|com)\/(?:github\/)?[\w.-]+\/[\w.-]+\/jobs\/(\d+)/i.exec(ref)?.[1] ??
    null
  );
}

/** Reads and diagnoses the failed jobs of a run; the most decisive job wins (legitimate > spurious > unknown). */
async function diagnoseRun(
  ctx: Ctx,
  run: CiRun,
  onlyJob: string | null,
): Promise<{ results: JobDiagnosis[]; errors: CiError[] }> {
  const { ci } = ctx.services;
  let jobs = await ci.failedJobs(run);
  if (onlyJob) jobs = jobs.filter((j) => j.id === onlyJob);
  const results: JobDiagnosis[] = [];
  const errors: CiError[] = [];
  for (const job of jobs.slice(0, MAX_JOBS)) {
    let log: JobLog;
    try {
      log = await ci.jobLog(job, { maxBytes: ctx.services.config.deploy.logMaxBytes });
    } catch (err) {
      if (err instanceof CiError) {
        errors.push(err);
        continue;
      }
      throw err;
    }
    const verdict = diagnose(log.text);
    const line = verdict.line == null ? null : log.lineOffset == null ? null : verdict.line + log.lineOffset;
    const failedStep = job.steps.find((s) => s.conclusion === "failure")?.name ?? null;
    results.push({
      job,
      log,
      verdict,
      line,
      lineInTail: verdict.line ?? null,
      step: verdict.step ?? failedStep,
    });
  }
  results.sort((a, b) => RANK[a.verdict.verdict] - RANK[b.verdict.verdict]);
  return { results, errors };
}

/** A job failed but its log shows no failure marker: say unknown, not success. */
function effectiveVerdict(v: Verdict): Exclude<VerdictKind, "success"> {
  return v.verdict === "success" ? "unknown" : v.verdict;
}

function entryFor(run: CiRun, r: JobDiagnosis | null, at: Date): HistoryEntry {
  const v = r ? effectiveVerdict(r.verdict) : "unknown";
  return {
    runId: run.id,
    runUrl: run.url,
    sha: run.sha,
    branch: run.branch,
    workflow: run.workflow,
    runAt: run.createdAt,
    at: at.toISOString(),
    verdict: run.conclusion === "success" ? "success" : v,
    signature: run.conclusion === "success" || v === "unknown" ? null : (r?.verdict.signature?.id ?? null),
    title: run.conclusion === "success" || v === "unknown" ? null : (r?.verdict.signature?.title ?? null),
  };
}

async function explainRun(ctx: Ctx, run: CiRun, onlyJob: string | null, pr: number | null): Promise<ReturnType<typeof ok>> {
  const { ci } = ctx.services;
  const d = ctx.services.config.deploy;
  const label = runLabel(run);
  const base = { runId: run.id, runUrl: run.url, sha: run.sha, branch: run.branch, provider: ci.kind, ...(pr ? { pr } : {}) };
  if (run.conclusion === "running")
    return ok([para(label, " is still running; ask again when it has finished.")], { ...base, verdict: null });
  if (run.conclusion !== "failure") {
    if (run.conclusion === "success") await history(ctx).record(d.github, entryFor(run, null, ctx.services.now()));
    return ok(
      [para(label, ` did not fail: it ended ${run.conclusion === "other" ? "without failing" : `as ${run.conclusion}`}.`)],
      {
        ...base,
        verdict: run.conclusion === "success" ? "success" : null,
      },
    );
  }

  const { results, errors } = await diagnoseRun(ctx, run, onlyJob);
  if (results.length === 0) {
    if (errors.length > 0) {
      const unavailable = errors.find((e) => e.kind === "logs-unavailable");
      if (unavailable)
        return fail(`The logs of ${textLabel(run)} are unavailable: ${unavailable.message}.`, [], {
          ...base,
          error: "logs-unavailable",
        });
      throw errors[0];
    }
    return fail(
      onlyJob
        ? `Job ${onlyJob} is not among the failed jobs of ${textLabel(run)}.`
        : `${textLabel(run)} failed, but none of its jobs did (it may have failed before any job started); see ${run.url}`,
      [],
      { ...base, verdict: null },
    );
  }

  const top = results[0] as JobDiagnosis;
  const v = top.verdict;
  const kind = effectiveVerdict(v);
  const hist = history(ctx);
  await hist.record(d.github, entryFor(run, top, ctx.services.now()));

  // A spurious cause failing run after run is not spurious any more.
  let streak = 1;
  if (kind === "spurious" && v.signature) {
    await fillPrevious(ctx, run, v.signature.id);
    streak = (await hist.streak(d.github, run.id)).count;
  }

  const blocks: Block[] = [];
  const sig = v.signature;
  const head: Inline[] = [label, " failed: ", strong(kind)];
  if (sig) head.push(" — ", sig.title, " (", code(sig.id), ")");
  blocks.push(para(...head));

  const lineNo = top.line ?? top.lineInTail;
  const lineText = v.text ? oneLine(v.text, 300) : null;
  const entries: Array<[string, Inline | Inline[]]> = [];
  if (lineText !== null && lineNo !== null) {
    const where = top.line !== null ? `line ${lineNo}` : `line ${lineNo} of the last ${formatBytes(top.log.bytes)}`;
    entries.push(["Decisive line", [link(top.job.url, where), ": ", code(lineText)]]);
  } else entries.push(["Job", link(top.job.url, top.job.name)]);
  if (top.step) entries.push(["Failing step", top.step]);
  if (lineText !== null) entries.push(["Job", link(top.job.url, top.job.name)]);

  const hasRetry = ctx.specs.some((s) => s.name === "retry");
  let todo: Inline[];
  let repeat = false;
  if (kind === "spurious" && streak >= 2) {
    repeat = true;
    todo = [
      strong(`the ${ordinal(streak)} run in a row that failed with ${sig?.id}`),
      ": this is no longer a one-off, so do not just re-run. Investigate what keeps failing",
      v.advice ? ` (${oneLine(v.advice, 300)})` : "",
      ".",
    ];
  } else if (kind === "spurious") {
    todo = [
      "re-run the failed jobs (",
      link(run.url, "run page"),
      ")",
      ...(hasRetry ? [" or say ", code(`${ctx.prefix} retry ${run.id}`)] : []),
      v.advice ? `. ${oneLine(v.advice, 300)}` : ".",
    ];
  } else if (kind === "legitimate") {
    todo = [v.advice ? oneLine(v.advice, 400) : "fix the cause; re-running will fail the same way."];
  } else {
    todo = [
      "I could not classify this failure; read the lines before the failure below",
      v.advice ? ` (${oneLine(v.advice, 200)})` : "",
      ".",
    ];
  }
  entries.push(["What to do", todo]);
  entries.push(["Confidence", confidenceText(v.confidence)]);
  blocks.push(fields(entries));

  // A pinned chart version that does not exist: what was most likely meant.
  let chart: Record<string, unknown> | null = null;
  const cap = v.captures ?? {};
  if (kind === "legitimate" && (sig?.family === "chart-version-missing" || (cap.chart && cap.version))) {
    const name = cap.chart ?? ctx.services.config.charts[0]?.name;
    let version = cap.version ?? null;
    let pinFile: string | null = null;
    if (name && !version) {
      // helm v2/v3 say only "Can't get a valid version for repositories X": read the pin at the run's commit.
      const pin = await pinnedVersion(ctx, run, name, cap.file ?? null);
      version = pin?.version ?? null;
      pinFile = pin?.file ?? null;
    }
    if (name && version) {
      const explained = await explainChart(ctx, name, version, pinFile);
      blocks.push(...explained.blocks);
      chart = { ...explained.data, ...(pinFile ? { pinFile } : {}) };
    } else if (name) {
      blocks.push(para("I could not read which version of ", code(name), ` was pinned at ${run.sha.slice(0, 7)}.`));
      chart = { chart: name, version: null };
    }
  }

  if (kind === "unknown" && v.context?.length) {
    blocks.push(
      para("The last lines before the failure:"),
      codeBlock(
        v.context
          .slice(-12)
          .map((l) => oneLine(l, 200))
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
        `(${errors.length} more failed job log${errors.length === 1 ? "" : "s"} could not be read: ${oneLine(errors[0]?.message ?? "")})`,
      ),
    );

  return ok(blocks, {
    ...base,
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
    chart,
    otherJobs: others.map((o) => ({
      id: o.job.id,
      name: o.job.name,
      verdict: effectiveVerdict(o.verdict),
      signature: o.verdict.signature?.id ?? null,
    })),
  });
}

/** Diagnoses the runs just before `run` (same branch and workflow) that history does not know yet. */
async function fillPrevious(ctx: Ctx, run: CiRun, signature: string): Promise<void> {
  const { ci } = ctx.services;
  const d = ctx.services.config.deploy;
  if (!run.branch) return;
  if (run.workflow !== null && run.workflow !== d.workflow) return;
  let recent: CiRun[];
  try {
    recent = await ci.recentRuns(d.workflow, run.branch, 15);
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, "could not list earlier runs for the streak");
    return;
  }
  const earlier = recent
    .filter(
      (r) => r.id !== run.id && (r.createdAt < run.createdAt || (r.createdAt === run.createdAt && Number(r.id) < Number(run.id))),
    )
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const hist = history(ctx);
  let looked = 0;
  for (const r of earlier) {
    if (r.conclusion === "cancelled" || r.conclusion === "other") continue;
    if (looked++ >= STREAK_LOOKBACK) break;
    const known = await hist.get(d.github, r.id);
    if (known) {
      if (known.signature !== signature) break;
      continue;
    }
    if (r.conclusion === "success") {
      await hist.record(d.github, entryFor(r, null, ctx.services.now()));
      break;
    }
    const { results } = await diagnoseRun(ctx, r, null).catch(() => ({ results: [] as JobDiagnosis[] }));
    const entry = entryFor(r, results[0] ?? null, ctx.services.now());
    await hist.record(d.github, entry);
    if (entry.signature !== signature) break;
  }
}

/** The chart version pinned in the deploy repository at the run's commit (Chart.yaml, or requirements.yaml before 2020-12). */
async function pinnedVersion(
  ctx: Ctx,
  run: CiRun,
  chart: string,
  fileHint: string | null,
): Promise<{ version: string; file: string } | null> {
  const chartFile = ctx.services.config.deploy.chartFile;
  const dir = chartFile.includes("/") ? chartFile.slice(0, chartFile.lastIndexOf("/") + 1) : "";
  const candidates = [...(fileHint ? [`${dir}${fileHint.split("/").pop()}`] : []), chartFile, `${dir}requirements.yaml`].filter(
    (p, i, all) => all.indexOf(p) === i,
  );
  for (const path of candidates) {
    let text: string | null;
    try {
      text = await ctx.services.ci.file(path, run.sha);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, path }, "could not read the chart pin");
      return null;
    }
    if (text === null) continue;
    let version: string | null = null;
    try {
      version = pinFromText(text, chart);
    } catch {
      continue;
    }
    if (version) return { version, file: path };
  }
  return null;
}

async function explainChart(
  ctx: Ctx,
  chart: string,
  version: string,
  pinFile: string | null,
): Promise<{ blocks: Block[]; data: Record<string, unknown> }> {
  const charts = ctx.services.charts;
  const data: Record<string, unknown> = { chart, version };
  let ex: VersionExplanation;
  try {
    ex = await charts.explainVersion(chart, version);
  } catch (err) {
    const why = err instanceof Error ? oneLine(err.message, 200) : String(err);
    return {
      blocks: [para("The pinned chart ", code(`${chart} ${version}`), ` was not found, and I could not look it up: ${why}.`)],
      data: { ...data, error: why },
    };
  }
  Object.assign(data, {
    kind: ex.kind,
    published: ex.published !== null,
    sha: ex.sha,
    correct: ex.correct
      ? { version: ex.correct.version, published: ex.correct.published, publishedAt: ex.correct.publishedAt, pr: ex.correct.pr }
      : null,
    message: ex.message,
  });
  const blocks: Block[] = [para(strong("The pinned chart: "), ex.message)];
  if (ex.correct && ex.correct.version !== version && ex.kind !== "not-published-yet") {
    blocks.push(para("Pin ", code(ex.correct.version), ` in ${pinFile ?? ctx.services.config.deploy.chartFile} instead.`));
  }
  if (ex.kind === "published") {
    blocks.push(para("It is in the chart index now, so it was still publishing when this run started: re-run the failed jobs."));
  }
  if (ex.kind === "not-published-yet") {
    const waiting = await registerChartWaiter(ctx, ex);
    data.waiting = waiting;
    blocks.push(
      para(
        waiting
          ? "It is still publishing; I will tell this room when it appears, then re-run the failed jobs."
          : "It is still publishing (usually 5–20 minutes after the merge); re-run the failed jobs once it is in the chart index.",
      ),
    );
  }
  return { blocks, data };
}

/** Registers "tell this room when the chart appears" with the chart service, as `sha` does. */
async function registerChartWaiter(ctx: Ctx, ex: VersionExplanation): Promise<boolean> {
  if (!ex.correct) return false;
  const m = ctx.message;
  try {
    await ctx.services.charts.addWaiter(ex.correct, {
      platform: m.platform,
      room: m.room,
      userId: m.userId,
      ...(m.displayName ? { displayName: m.displayName } : {}),
      ...(m.thread ? { thread: m.thread } : {}),
    });
    return true;
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, "could not register a waiter");
    return false;
  }
}

async function stats(ctx: Ctx, last: number): Promise<ReturnType<typeof ok>> {
  const { ci } = ctx.services;
  const d = ctx.services.config.deploy;
  const hist = history(ctx);
  let entries: HistoryEntry[];
  let note: string | null = null;
  let unreadable = 0;
  try {
    const runs = await ci.recentRuns(d.workflow, d.branch, last);
    entries = [];
    for (const r of runs) {
      if (r.conclusion === "cancelled" || r.conclusion === "other") continue;
      const known = await hist.get(d.github, r.id);
      if (known) {
        entries.push(known);
        continue;
      }
      let entry: HistoryEntry;
      if (r.conclusion === "success") entry = entryFor(r, null, ctx.services.now());
      else {
        const { results } = await diagnoseRun(ctx, r, null);
        if (results.length === 0) {
          unreadable++;
          continue;
        }
        entry = entryFor(r, results[0] as JobDiagnosis, ctx.services.now());
      }
      await hist.record(d.github, entry);
      entries.push(entry);
    }
  } catch (err) {
    if (!(err instanceof CiError)) throw err;
    entries = (await hist.all(d.github)).filter((e) => e.branch === d.branch).slice(-last);
    note = `${oneLine(err.message)}; these are the ${entries.length} runs I diagnosed before`;
  }
  const s = tally(entries);
  const where = ci.kind === "travis" ? d.branch : `${d.workflow} on ${d.branch}`;
  const blocks: Block[] = [];
  if (note) blocks.push(para(`(${note}.)`));
  if (s.runs === 0 && unreadable === 0) {
    return ok([...blocks, para(`No runs of ${where} to count.`)], { ...s, unreadable });
  }
  blocks.push(
    para(
      `Last ${s.runs + unreadable} runs of ${where}`,
      s.from && s.to ? ` (${s.from.slice(0, 10)} – ${s.to.slice(0, 10)})` : "",
      `: ${s.failures + unreadable} failed, ${s.successes} succeeded.`,
    ),
  );
  if (s.bySignature.length > 0) {
    blocks.push(
      list(s.bySignature.map((c) => [code(c.signature), ` ${c.title ?? ""} (${c.verdict}): `, strong(String(c.count))])),
    );
  }
  blocks.push(para(`Unclassified: ${s.unclassified}`, unreadable ? `; logs unreadable: ${unreadable}` : "", "."));
  return ok(blocks, { ...s, unreadable, last });
}

function runLabel(run: CiRun): Inline {
  return link(run.url, textLabel(run));
}

function textLabel(run: CiRun): string {
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

function oneLine(s: string, n = 300): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

function joinInline(items: Inline[][]): Inline[] {
  return items.flatMap((x, i) => (i === 0 ? x : [", ", ...x]));
}
