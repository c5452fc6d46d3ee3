import { effectiveVerdict } from "../ci/diagnose-run.ts";
import { CiError, type CiRun } from "../ci/provider.ts";
import { parseTarget, resolveTarget, type Target } from "../ci/target.ts";
import type { CommandContext, CommandSpec } from "../core/command.ts";
import { userRef } from "../core/message.ts";
import { clip, errorLine } from "../core/one-line.ts";
import { code, fail, link, list, ok, para, type Reply, strong } from "../core/reply.ts";
import { Confirmations } from "../retry/confirm.ts";
import { type LedgerEntry, RetryLedger } from "../retry/ledger.ts";
import type { Services } from "../services.ts";
import { followLater } from "./follows.ts";
import { diagnoser } from "./why.ts";
import { runLabel, textLabel } from "./why-reply.ts";

/**
 * `!binder retry`: re-runs the failed jobs of a deploy run, for the roles allowed to (operators by
 * default), only when a re-run can help: not when `why` says the failure is legitimate (unless
 * `--force` and a `!binder yes`), not for a run in progress, green or too old, and within budgets.
 * Every request goes into the audit ledger (`--log`); the new attempt is followed and its end said
 * in the same thread (retry-follow.ts). Safety rules and wording: docs/retry.md.
 */

type Ctx = CommandContext<Services>;
export type Scope = "failed" | "all";

/** Words that mean "the deploy" rather than a run (`retry deploy`, `restart ci`). */
const LATEST_WORDS = /^(?:deploy(?:ment)?|ci|cd|build|travis|run|it|again|latest|last|failed)$/i;

export const retry: CommandSpec<Services> = {
  name: "retry",
  aliases: ["rerun"],
  summary: "Re-run the failed jobs of a failed deploy, when a re-run can help (operators)",
  description:
    "Re-runs the failed jobs of the latest failed run of the deploy workflow (or of a PR's run, or of the run named), and says in the same thread how the new attempt ended. GitHub Actions: rerun-failed-jobs (--all: the whole run); Travis CI: restart. Refused when `why` says the failure is legitimate (a re-run fails the same way): --force asks for `yes` from you in this room within the confirmation window. Not for runs still in progress, already green or too old; at most retry.perRun retries per run and retry.perHour per hour. --log shows the audit ledger.",
  args: [
    {
      name: "target",
      type: "string",
      description: "a PR of the deploy repository (#254), a run URL or a run id; default: the latest failed deploy",
    },
  ],
  flags: [
    { name: "all", type: "boolean", description: "re-run the whole run, not only its failed jobs" },
    { name: "force", type: "boolean", description: "retry although `why` says legitimate (asks for `yes`)" },
    { name: "log", type: "boolean", description: "the audit ledger: recent retries, who asked, the verdict then, the outcome" },
  ],
  examples: [
    "retry",
    "retry #254",
    "retry https://github.com/jupyterhub/mybinder.org-deploy/actions/runs/11497830145",
    "retry 11497830145 --all",
    "retry --force",
    "retry --log",
  ],
  access: ["operators"],
  sideEffects: "re-runs CI jobs of the deploy repository (GitHub Actions rerun-failed-jobs or rerun, Travis CI restart)",
  intents: [
    {
      pattern:
        /^(?:please |can you |could you |would you )?(?:retry|re-?run|restart)(?: the| that| this| our)?(?: last| latest| failed)?(?: deploy(?:ment)?| build| ci| travis| cd| run| workflow| failed jobs| jobs?)?(?: again)?(?: please)?\s*[?.!]*$/i,
      example: "can you restart CI?",
      args: () => [],
    },
    {
      pattern:
        /^(?:please |can you |could you )?(?:retry|re-?run|restart)(?: the)?(?: deploy| run| build)?(?: of)? (?<target>#\d{1,6}|https?:\/\/\S+|\d{7,20})\s*[?.!]*$/i,
      example: "retry the deploy of #254",
    },
  ],
  async run(ctx, { args, flags }) {
    const d = ctx.services.config.deploy;
    if (flags.log === true) {
      if (args.target !== undefined || flags.force || flags.all) return fail("--log shows the ledger; it takes nothing else.");
      return ledgerReply(ctx);
    }
    const raw =
      typeof args.target === "string" && LATEST_WORDS.test(args.target) ? undefined : (args.target as string | undefined);
    const target = parseTarget(raw, d.github);
    if ("error" in target) return fail(`${target.error}.`);
    try {
      return await retryTarget(ctx, target, flags.all === true ? "all" : "failed", flags.force === true);
    } catch (err) {
      if (err instanceof CiError) return fail(errorLine(err, 300), [], { error: err.kind });
      throw err;
    }
  },
};

export function ledger(ctx: Pick<Ctx, "services">): RetryLedger {
  return new RetryLedger(ctx.services.store, ctx.services.config.deploy.github);
}

async function retryTarget(ctx: Ctx, target: Target, scope: Scope, force: boolean): Promise<Reply> {
  const { ci, config } = ctx.services;
  const d = config.deploy;
  const r = await resolveTarget(ci, target, d.workflow, d.branch);
  if (r.kind === "no-failed-run")
    return fail(`Nothing to retry: none of the recent runs of ${d.workflow} on ${d.branch} failed.`, [], { retried: false });
  if (r.kind === "pr-no-runs") return fail(`Nothing to retry: #${r.pr.number} has no runs.`, [], { retried: false });
  if (r.kind === "pr-no-failure") return fail(`Nothing to retry: no run of #${r.pr.number} failed.`, [], { retried: false });
  const run = r.run;
  if (target.kind === "latest") {
    const [newest] = await ci.recentRuns(d.workflow, d.branch, 1);
    if (newest && newest.id !== run.id && newest.conclusion === "success" && newest.createdAt > run.createdAt)
      return refuse(ctx, run, scope, null, `the deploy is green again since ${textLabel(newest)}; nothing to retry`);
  }
  const blocked = await guard(ctx, run);
  if (blocked) return refuse(ctx, run, scope, null, blocked);

  const { results } = await diagnoser(ctx).jobs(run);
  const top = results[0];
  const verdict = top ? effectiveVerdict(top.verdict) : "unknown";
  const sig = top?.verdict.signature ?? null;
  const seen = { verdict, signature: sig?.id ?? null };
  if (verdict === "legitimate") {
    const decisive = top?.verdict.text ? clip(top.verdict.text, 200) : null;
    const because = [
      runLabel(run),
      " failed for a legitimate reason",
      ...(sig ? [": ", sig.title, " (", code(sig.id), ")"] : []),
      ...(decisive ? [". Decisive line: ", code(decisive)] : []),
      ". A re-run will fail the same way; fix the cause.",
    ];
    if (!force) {
      await record(ctx, run, scope, seen, false, "refused", "why says legitimate");
      const error = `Not retrying: \`why\` says the failure of ${textLabel(run)} is legitimate.`;
      return fail(error, [para(...because), para("If you are sure, say ", code(`${ctx.prefix} retry ${run.id} --force`), ".")], {
        ...runData(run, scope),
        retried: false,
        verdict,
        signature: seen.signature,
      });
    }
    const seconds = config.retry.confirmSeconds;
    await new Confirmations(ctx.services.store).ask(
      userRef(ctx.message),
      ctx.message.room,
      { runId: run.id, scope, ...seen, until: new Date(ctx.services.now().getTime() + seconds * 1000).toISOString() },
      seconds * 1000,
    );
    return ok(
      [
        para(...because),
        para(
          strong("Retry it anyway?"),
          " Say ",
          code(`${ctx.prefix} yes`),
          ` here within ${seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`} (only you can confirm).`,
        ),
      ],
      { ...runData(run, scope), retried: false, confirm: true, verdict, signature: seen.signature },
    );
  }
  return start(ctx, run, scope, seen, false);
}

/** Why a run may not be retried now (in progress, green, too old, budget spent), or null. */
export async function guard(ctx: Ctx, run: CiRun): Promise<string | null> {
  const cfg = ctx.services.config.retry;
  const now = ctx.services.now();
  if (run.conclusion === "running") return `${textLabel(run)} is still in progress; wait for it to end`;
  if (run.conclusion === "success") return `${textLabel(run)} is already green`;
  const ageDays = (now.getTime() - Date.parse(run.createdAt)) / 86_400_000;
  if (ageDays > cfg.maxAgeDays)
    return `${textLabel(run)} is ${Math.floor(ageDays)} days old; runs older than ${cfg.maxAgeDays} days are not retried (retry.maxAgeDays${run.provider === "github-actions" ? "; GitHub Actions refuses after 30 days" : ""}): start a new run instead`;
  const spent = await ledger(ctx).spent(run.id, run.provider, new Date(now.getTime() - 3_600_000));
  if (spent.run >= cfg.perRun)
    return `${textLabel(run)} was already retried ${spent.run} time${spent.run === 1 ? "" : "s"} (retry.perRun: ${cfg.perRun}); find out why it keeps failing: ${ctx.prefix} why ${run.id}`;
  if (spent.window.length >= cfg.perHour) {
    const oldest = Date.parse(spent.window[0]?.at ?? now.toISOString());
    const next = new Date(oldest + 3_600_000);
    return `${spent.window.length} retries in the last hour in ${ctx.services.config.deploy.github} (retry.perHour: ${cfg.perHour}); the next is possible at ${next.toISOString().slice(11, 16)} UTC`;
  }
  return null;
}

async function refuse(ctx: Ctx, run: CiRun, scope: Scope, seen: Seen | null, why: string): Promise<Reply> {
  await record(ctx, run, scope, seen ?? { verdict: null, signature: null }, false, "refused", why);
  return fail(`Not retrying: ${why}.`, [], { ...runData(run, scope), retried: false });
}

interface Seen {
  verdict: string | null;
  signature: string | null;
}

async function record(
  ctx: Ctx,
  run: CiRun,
  scope: Scope,
  seen: Seen,
  forced: boolean,
  outcome: LedgerEntry["outcome"],
  detail: string | null,
): Promise<LedgerEntry> {
  const at = ctx.services.now().toISOString();
  const entry: LedgerEntry = {
    id: `${at}:${run.provider}:${run.id}:${Math.random().toString(36).slice(2, 8)}`,
    at,
    who: userRef(ctx.message),
    room: `${ctx.message.platform}:${ctx.message.room}`,
    provider: run.provider,
    runId: run.id,
    runUrl: run.url,
    scope,
    ...seen,
    forced,
    outcome,
    detail,
    updatedAt: at,
  };
  await ledger(ctx).add(entry);
  return entry;
}

function runData(run: CiRun, scope: Scope): Record<string, unknown> {
  return { runId: run.id, runUrl: run.url, provider: run.provider, scope };
}

/** Starts the re-run (the checks are done), records it, and follows the new attempt when someone will hear of it. */
export async function start(ctx: Ctx, run: CiRun, scope: Scope, seen: Seen, forced: boolean): Promise<Reply> {
  const { ci } = ctx.services;
  // In the ledger before the request, so a second retry at the same moment counts it in its budget.
  const entry = await record(ctx, run, scope, seen, forced, "started", null);
  try {
    if (scope === "all") await ci.rerunAll(run);
    else await ci.rerunFailed(run);
  } catch (err) {
    await ledger(ctx).settle(entry.id, "error", errorLine(err, 200), ctx.services.now());
    if (err instanceof CiError) return fail(errorLine(err, 300), [], { ...runData(run, scope), retried: false, error: err.kind });
    throw err;
  }
  const following = ctx.lasting;
  if (following)
    await followLater(
      ctx,
      { kind: "retry", retry: { run, ledgerId: entry.id } },
      ctx.services.config.retry.followMinutes * 60_000,
    );
  const why = forced
    ? " (forced past a legitimate verdict)"
    : seen.verdict
      ? ` (why: ${seen.verdict}${seen.signature ? `, ${seen.signature}` : ""})`
      : "";
  return ok(
    [
      para(
        scope === "all" ? "Re-running the whole of " : "Re-running the failed jobs of ",
        runLabel(run),
        why,
        ". The new attempt: ",
        link(run.url),
        following ? ". I will say here how it ends." : ".",
      ),
    ],
    {
      ...runData(run, scope),
      retried: true,
      forced,
      verdict: seen.verdict,
      signature: seen.signature,
      following,
      attemptBefore: run.attempt ?? null,
    },
  );
}

async function ledgerReply(ctx: Ctx): Promise<Reply> {
  const entries = await ledger(ctx).recent(15);
  if (entries.length === 0)
    return ok([para("No retries asked for yet in ", ctx.services.config.deploy.github, ".")], { entries: [] });
  return ok(
    [
      para(
        `The last ${entries.length} retry request${entries.length === 1 ? "" : "s"} in ${ctx.services.config.deploy.github}, newest first:`,
      ),
      list(
        entries.map((e) => [
          `${e.at.slice(0, 16).replace("T", " ")} UTC `,
          code(e.who),
          " — ",
          link(e.runUrl, `run ${e.runId}`),
          e.scope === "all" ? " (whole run)" : "",
          `, verdict ${e.verdict ?? "not read"}${e.signature ? ` (${e.signature})` : ""}`,
          e.forced ? ", forced" : "",
          " → ",
          strong(e.outcome),
          e.detail ? `: ${clip(e.detail, 160)}` : "",
        ]),
      ),
    ],
    { entries },
  );
}
