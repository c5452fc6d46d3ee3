import type { CiRun } from "../ci/provider.ts";
import type { CommandContext } from "../core/command.ts";
import { errorLine } from "../core/one-line.ts";
import { type Block, link, ok, para, type Reply } from "../core/reply.ts";
import { awaitNewAttempt } from "../retry/follow.ts";
import type { LedgerEntry } from "../retry/ledger.ts";
import type { Services } from "../services.ts";
import { ledger } from "./retry.ts";
import { diagnoser } from "./why.ts";
import { runData, runLabel, textLabel, verdictReply } from "./why-reply.ts";

type Ctx = CommandContext<Services>;
/** What a follow needs of a command's context (a follow resumed after a restart has no command). */
export type FollowCtx = Pick<Ctx, "services" | "log" | "prefix"> & { send(reply: Reply): Promise<unknown> };

/**
 * Follows the new attempt of a retried run and says in the asker's room and thread how it ended: green,
 * or failed again with the `why` verdict and decisive line; the outcome goes into the ledger.
 */
export async function followUp(ctx: FollowCtx, run: CiRun, ledgerId: string, until: number, signal: AbortSignal): Promise<void> {
  const cfg = ctx.services.config.retry;
  const settle = (outcome: LedgerEntry["outcome"], detail: string | null) =>
    ledger(ctx).settle(ledgerId, outcome, detail, ctx.services.now());
  let ended: CiRun | null;
  try {
    ended = await awaitNewAttempt({
      ci: ctx.services.ci,
      runId: run.id,
      attemptBefore: run.attempt ?? null,
      pollMs: cfg.pollSeconds * 1000,
      forMs: Math.max(0, until - ctx.services.now().getTime()),
      delay: ctx.services.delay,
      now: ctx.services.now,
      signal,
      onError: (err) => ctx.log.warn({ err: errorLine(err), runId: run.id }, "retry follow: could not read the run"),
    });
  } catch (err) {
    if (signal.aborted) return;
    const why = errorLine(err, 200);
    await settle("not-followed", why);
    await ctx.send(ok([para("I lost track of the re-run of ", runLabel(run), `: ${why}. See `, link(run.url), ".")]));
    return;
  }
  if (ended === null) {
    await settle("not-followed", `not ended after ${cfg.followMinutes} min`);
    await ctx.send(
      ok([
        para(
          "The re-run of ",
          runLabel(run),
          ` has not ended after ${cfg.followMinutes} minutes; I stop following it: `,
          link(run.url),
          ".",
        ),
      ]),
    );
    return;
  }
  if (ended.conclusion === "success") {
    await settle("success", null);
    await ctx.send(
      ok([para("The re-run of ", runLabel(ended), " passed: the deploy is green again.")], outcomeData(ended, "success")),
    );
    return;
  }
  if (ended.conclusion !== "failure") {
    await settle("ended", `ended as ${ended.conclusion}`);
    await ctx.send(
      ok([para("The re-run of ", runLabel(ended), ` ended as ${ended.conclusion}.`)], outcomeData(ended, ended.conclusion)),
    );
    return;
  }
  await ctx.send(await failedAgain(ctx, ended, settle));
}

/** The re-run failed again: `why`'s verdict on the new attempt, under one line that says so. */
async function failedAgain(
  ctx: FollowCtx,
  run: CiRun,
  settle: (o: LedgerEntry["outcome"], d: string | null) => Promise<void>,
): Promise<Reply> {
  const head: Block = para("The re-run of ", runLabel(run), " failed again.");
  const diag = diagnoser(ctx);
  let verdict: Reply | null = null;
  try {
    const { results, errors } = await diag.jobs(run);
    const top = results[0];
    if (top) {
      await diag.record(run, top);
      verdict = verdictReply({
        run,
        base: runData(run, ctx.services.ci.kind, null),
        results,
        errors,
        streak: 1,
        retryCommand: null,
        chart: null,
      });
    }
  } catch (err) {
    ctx.log.warn({ err: errorLine(err), runId: run.id }, "retry follow: could not diagnose the new attempt");
  }
  const v = verdict?.data as { verdict?: string; signature?: string | null; text?: string | null } | undefined;
  await settle("failure", v?.verdict ? `why: ${v.verdict}${v.signature ? ` (${v.signature})` : ""}` : null);
  if (!verdict)
    return ok(
      [head, para(`I could not read why; say ${ctx.prefix} why ${run.id}, or see `, link(run.url), ".")],
      outcomeData(run, "failure"),
    );
  return ok([head, ...verdict.blocks], { ...outcomeData(run, "failure"), ...(verdict.data ?? {}) });
}

function outcomeData(run: CiRun, outcome: string): Record<string, unknown> {
  return { runId: run.id, runUrl: run.url, outcome, label: textLabel(run) };
}
