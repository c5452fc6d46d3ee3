import type { CommandContext, CommandSpec } from "../core/command.ts";
import { userRef } from "../core/message.ts";
import { errorLine } from "../core/one-line.ts";
import { code, codeBlock, fail, fields, link, list, ok, para, strong } from "../core/reply.ts";
import { BumpError, type BumpResult, openBump } from "../deploy/bump.ts";
import { type BumpOutcome, followBump } from "../deploy/bump-follow.ts";
import { bumpTarget } from "../deploy/bump-target.ts";
import { DeployFileError } from "../deploy/deploy-file.ts";
import { PinEditError } from "../deploy/pin-edit.ts";
import type { Services } from "../services.ts";
import { followLater } from "./follows.ts";
import type { FollowCtx } from "./retry-follow.ts";
import { prItems, runLine } from "./status-reply.ts";

/**
 * PR follows per bot (services), by PR and thread, so a second bump of an open PR in the same thread
 * does not follow it twice; a bump in another thread gets its own follow, as its reply promises.
 */
const following = new WeakMap<object, Set<string>>();

/** The thread a reply goes to, as a follow record names it. */
const threadKey = (t: { platform: string; room: string; thread?: string | null | undefined }) =>
  `${t.platform}\u0000${t.room}\u0000${t.thread ?? ""}`;

/**
 * `!binder bump [chart] [version|ref]`: the bump commit no person types by hand. Target: bump-target.ts
 * (published only); the PR: src/deploy/bump.ts (one line changed, one open PR per chart).
 */
export const bump: CommandSpec<Services> = {
  name: "bump",
  summary: "Open (or update) the PR that pins a published chart version in the deploy repository",
  description:
    "Changes exactly the pinned version line of the chart's dependency in the deploy repository's chart file (comments, quoting and formatting kept byte for byte) on the branch binderbot/bump-<chart>, and opens a pull request whose body lists the upstream PRs included and links the compare view. Default: the newest published chart. A version must be published; a ref (commit, #PR, branch) is resolved with the sha engine and must have a published chart. An open bump PR for the same chart is updated rather than a second one opened.",
  args: [
    { name: "chart", type: "string", leading: true, description: "which chart, when several are configured" },
    {
      name: "target",
      type: "string",
      description: "a published chart version, or a ref (commit, #PR, branch) whose chart is published; default: the newest",
    },
  ],
  examples: ["bump", "bump 1.0.0-0.dev.git.3512.h5d1e0f3c", "bump #1912", "bump binderhub main"],
  access: ["operators"],
  sideEffects: "pushes the branch binderbot/bump-<chart> and opens or updates a pull request on the deploy repository",
  async run(ctx, { args }) {
    const charts = ctx.services.charts.charts();
    let chart = (args.chart as string | undefined) ?? charts[0]!;
    let asked = args.target as string | undefined;
    if (args.chart === undefined && asked !== undefined && charts.includes(asked)) {
      chart = asked;
      asked = undefined;
    }
    if (!charts.includes(chart)) return fail(`There is no chart '${chart}' (configured: ${charts.join(", ")}).`);
    const target = await bumpTarget(ctx.services, chart, asked);
    if (!target.ok) return fail(target.reason, [], { chart, asked: asked ?? null, refused: true });
    let r: BumpResult;
    try {
      r = await openBump(ctx.services, { chart, version: target.version, requestedBy: userRef(ctx.message) });
    } catch (e) {
      if (e instanceof BumpError || e instanceof PinEditError || e instanceof DeployFileError) {
        return fail(e.message.replace(/\.?$/, "."), [], { chart, version: target.version });
      }
      throw e;
    }
    const data = { ...r, how: target.how };
    if (r.kind === "already-pinned") {
      return ok([para(`${r.file} already pins ${chart} `, code(r.to), ` (${target.how}); nothing to bump.`)], data);
    }
    const chartRepo = ctx.services.config.charts.find((c) => c.name === chart)?.github ?? chart;
    const pr = r.pr!;
    const follows = await followInThread(ctx, pr, r.to);
    return ok(
      [
        para(r.kind === "opened" ? "Opened " : "Updated ", link(pr.url, `PR #${pr.number}`), `: bump ${chart} to `, strong(r.to)),
        fields([
          ["From", code(r.from)],
          ["To", [code(r.to), ` (${target.how})`]],
          ["Upstream PRs", r.prs === null ? `unknown (${r.prsError ?? "?"})` : String(r.prs.length)],
          ...(r.compareUrl ? ([["Compare", link(r.compareUrl)]] as Array<[string, ReturnType<typeof link>]>) : []),
        ]),
        ...(r.prs?.length ? [list(prItems(chartRepo, r.prs))] : []),
        ...(r.lines ? [codeBlock(`- ${r.lines.before}\n+ ${r.lines.after}`, "diff")] : []),
        ...(follows
          ? [
              para(
                `I'll tell this thread when it is merged and deployed (I follow it for ${ctx.services.config.deploy.bumpFollowHours} h).`,
              ),
            ]
          : []),
      ],
      data,
    );
  },
};

/**
 * Follows the PR after the answer (once per PR) and says in the asker's thread how its deploy ended;
 * the follow is written to the store first, so a restart resumes it (commands/follows.ts).
 * False when no later message would reach anyone (then nothing is promised).
 */
async function followInThread(
  ctx: CommandContext<Services>,
  pr: { number: number; url: string },
  version: string,
): Promise<boolean> {
  if (!ctx.lasting) return false;
  const mine = following.get(ctx.services) ?? new Set<string>();
  following.set(ctx.services, mine);
  const key = `${pr.number}\u0000${threadKey(ctx.message)}`;
  if (mine.has(key)) return true;
  mine.add(key); // before the store is read, so a bump arriving meanwhile does not follow it too
  const hours = ctx.services.config.deploy.bumpFollowHours;
  try {
    if (await followedInStore(ctx, pr.number)) {
      mine.delete(key);
      return true;
    }
    await followLater(ctx, { kind: "bump", bump: { pr: pr.number, url: pr.url, version } }, hours * 3_600_000, () =>
      mine.delete(key),
    );
  } catch (err) {
    mine.delete(key);
    throw err;
  }
  return true;
}

/**
 * True when a follow record of this PR for this thread is in the store: written before a restart, it is
 * resumed (or followed by another replica) and tells the thread, so a new bump there must not follow twice.
 */
async function followedInStore(ctx: CommandContext<Services>, pr: number): Promise<boolean> {
  const here = threadKey(ctx.message);
  try {
    for await (const rec of ctx.services.follows.pending()) {
      if (rec.bump?.pr === pr && threadKey(rec.target) === here) return true;
    }
  } catch (err) {
    ctx.log.warn({ err: errorLine(err) }, "cannot read the follow records; following the PR here");
  }
  return false;
}

/** Follows a bump's PR to its deploy (or the deadline `until`) and says how it ended. */
export async function tellBump(
  ctx: FollowCtx,
  bump: { pr: number; url: string; version: string },
  until: number,
  signal: AbortSignal,
): Promise<void> {
  const outcome = await followBump(ctx.services, bump.pr, signal, until);
  const pr = { number: bump.pr, url: bump.url };
  await ctx.send(ok(outcomeBlocks(ctx, outcome, pr, bump.version), { pr: bump.pr, outcome }));
}

function outcomeBlocks(ctx: FollowCtx, o: BumpOutcome, pr: { number: number; url: string }, version: string) {
  const head = [link(pr.url, `PR #${pr.number}`), ` (${version})`];
  const d = ctx.services.config.deploy;
  if (o.kind === "closed") return [para(...head, " was closed without being merged: nothing was deployed.")];
  if (o.kind === "gave-up") {
    const what = o.stage === "merge" ? "it is not merged yet" : "its deploy has not finished";
    return [para(...head, `: I stopped following it after ${d.bumpFollowHours} h; ${what}.`)];
  }
  const r = o.last.run;
  const verdict =
    r.conclusion === "success"
      ? "is deployed"
      : r.conclusion === "failure"
        ? "was merged but its deploy failed"
        : "was merged; its deploy ended";
  const blocks = [para(...head, ` ${verdict}. Deploy: `, ...runLine(o.last, d.workflow))];
  if (r.conclusion === "failure") blocks.push(para("More: ", code(`${ctx.prefix} why ${r.id}`)));
  return blocks;
}
