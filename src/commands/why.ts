import { effectiveVerdict, RunDiagnoser } from "../ci/diagnose-run.ts";
import { VerdictHistory } from "../ci/history.ts";
import { CiError, type CiRun } from "../ci/provider.ts";
import { parseTarget, resolveTarget, type Target } from "../ci/target.ts";
import type { CommandContext, CommandSpec } from "../core/command.ts";
import { errorLine } from "../core/one-line.ts";
import { fail, type Reply } from "../core/reply.ts";
import type { Services } from "../services.ts";
import { chartCheck } from "./why-chart.ts";
import {
  logsUnavailableReply,
  noFailedJobReply,
  noFailedRunReply,
  notFailedReply,
  prNoFailureReply,
  prNoRunsReply,
  runData,
  stillRunningReply,
  verdictReply,
} from "./why-reply.ts";
import { statsReply } from "./why-stats.ts";

/**
 * `!binder why`: reads the failed jobs' logs of a deploy run and says spurious, legitimate or unknown.
 * Targets: src/ci/target.ts; diagnosis, history and streaks: src/ci/diagnose-run.ts; the missing chart
 * version: why-chart.ts; the answer: why-reply.ts; --stats: why-stats.ts.
 */

type Ctx = CommandContext<Services>;

const DEFAULT_STATS_RUNS = 20;

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
        const { ci } = ctx.services;
        return await statsReply({ ci, diagnoser: diagnoser(ctx), workflow: d.workflow, branch: d.branch }, last);
      }
      if (flags.last !== undefined) return fail("--last goes with --stats (e.g. `why --stats --last 30`).");
      const target = parseTarget(args.target as string | undefined, d.github);
      if ("error" in target) return fail(`${target.error}.`);
      return await whyTarget(ctx, target);
    } catch (err) {
      if (err instanceof CiError) return fail(errorLine(err, 300), [], { error: err.kind });
      throw err;
    }
  },
};

/** The `why` engine for a command: reads, diagnoses and records failed runs of the deploy. */
export function diagnoser(ctx: Pick<Ctx, "services" | "log">): RunDiagnoser {
  const { ci, store, config } = ctx.services;
  const d = config.deploy;
  return new RunDiagnoser({
    ci,
    history: new VerdictHistory(store, d.historyLength),
    repo: d.github,
    workflow: d.workflow,
    logMaxBytes: d.logMaxBytes,
    now: () => ctx.services.now(),
    log: ctx.log,
  });
}

async function whyTarget(ctx: Ctx, target: Target): Promise<Reply> {
  const { ci } = ctx.services;
  const d = ctx.services.config.deploy;
  const r = await resolveTarget(ci, target, d.workflow, d.branch);
  if (r.kind === "no-failed-run") return noFailedRunReply(ci.kind, d.workflow, d.branch);
  if (r.kind === "pr-no-runs") return prNoRunsReply(ci.kind, r.pr);
  if (r.kind === "pr-no-failure") return prNoFailureReply(r.pr, r.runs);
  return explainRun(ctx, r.run, r.onlyJob, r.pr);
}

/** Diagnoses a failed run, records the verdict, counts the streak, looks up a missing chart version. */
async function explainRun(ctx: Ctx, run: CiRun, onlyJob: string | null, pr: number | null): Promise<Reply> {
  const base = runData(run, ctx.services.ci.kind, pr);
  const diag = diagnoser(ctx);
  if (run.conclusion === "running") return stillRunningReply(run, base);
  if (run.conclusion !== "failure") {
    if (run.conclusion === "success") await diag.record(run, null);
    return notFailedReply(run, base);
  }

  const { results, errors } = await diag.jobs(run, onlyJob);
  const top = results[0];
  if (!top) {
    const unavailable = errors.find((e) => e.kind === "logs-unavailable");
    if (unavailable) return logsUnavailableReply(run, base, unavailable);
    if (errors[0]) throw errors[0];
    return noFailedJobReply(run, base, onlyJob);
  }

  const v = top.verdict;
  const kind = effectiveVerdict(v);
  await diag.record(run, top);
  const streak = kind === "spurious" && v.signature ? await diag.streak(run, v.signature.id) : 1;
  const chart = await chartCheck(ctx, run, v, kind);
  const hasRetry = ctx.specs.some((s) => s.name === "retry");
  return verdictReply({
    run,
    base,
    results,
    errors,
    streak,
    retryCommand: hasRetry ? `${ctx.prefix} retry ${run.id}` : null,
    chart,
  });
}
