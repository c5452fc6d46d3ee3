/** Follows written to the store, so a restart resumes them (docs/operations.md). */

import { randomUUID } from "node:crypto";
import type { CommandContext } from "../core/command.ts";
import { errorLine } from "../core/one-line.ts";
import type { Reply } from "../core/reply.ts";
import type { FollowRecord } from "../follow/records.ts";
import type { Services } from "../services.ts";
import { tellBump } from "./bump.ts";
import { type FollowCtx, followUp } from "./retry-follow.ts";

type Ctx = CommandContext<Services>;

/** Runs a record's follow: the re-run's end or the bump's deploy, said through `ctx.send`. */
function follow(ctx: FollowCtx, rec: FollowRecord, signal: AbortSignal): Promise<void> {
  if (rec.retry) return followUp(ctx, rec.retry.run, rec.retry.ledgerId, rec.until, signal);
  if (rec.bump) return tellBump(ctx, rec.bump, rec.until, signal);
  throw new Error(`follow record ${rec.id} has neither a run nor a PR`);
}

/**
 * Writes the follow record, then follows `later` in the asker's thread, as the command promised.
 * The record is deleted once the outcome is said; a restart in between resumes it.
 */
export async function followLater(
  ctx: Ctx,
  what: Pick<FollowRecord, "kind" | "retry" | "bump">,
  forMs: number,
  /** Called when this process stops following (the outcome said, or the bot stopping). */
  ended?: () => void,
): Promise<void> {
  const { follows, now } = ctx.services;
  const m = ctx.message;
  const rec: FollowRecord = {
    id: randomUUID(),
    ...what,
    target: { platform: m.platform, room: m.room, ...(m.thread !== undefined ? { thread: m.thread } : {}) },
    until: now().getTime() + forMs,
    createdAt: now().toISOString(),
  };
  let kept = true;
  try {
    await follows.add(rec);
  } catch (err) {
    // The re-run or the PR exists already: follow it anyway, only a restart would lose it.
    kept = false;
    ctx.log.warn({ err: errorLine(err), follow: rec.id }, "cannot write the follow record; following in memory only");
  }
  ctx.later(async (signal) => {
    try {
      if (kept) await follows.hold(rec, signal, () => follow(ctx, rec, signal));
      else await follow(ctx, rec, signal);
    } finally {
      ended?.();
    }
  });
}

export interface ResumeOptions {
  services: Services;
  prefix: string;
  /** Scrubs secrets from what is said, like every reply. */
  scrub: (reply: Reply) => Reply;
  signal: AbortSignal;
}

/**
 * Takes over every follow record no live replica holds (after a restart, or of a replica that died)
 * and follows it to its original deadline; the outcome goes through the notifier's outbox under the
 * dedupe key `follow:<id>`, so it reaches the thread once even if the bot dies again after queueing
 * it. Resolves with the follows this call took, once they have ended.
 */
export async function resumeFollows(o: ResumeOptions): Promise<number> {
  const { follows, notify, log } = o.services;
  const runs: Array<Promise<boolean>> = [];
  for await (const rec of follows.pending()) {
    const ctx: FollowCtx = {
      services: o.services,
      log: log.child({ follow: rec.id, kind: rec.kind, resumed: true }),
      prefix: o.prefix,
      send: (reply) => notify.outbox.enqueue(`follow:${rec.id}`, [rec.target], o.scrub(reply)),
    };
    runs.push(
      follows
        .hold(rec, o.signal, () => follow(ctx, rec, o.signal))
        .catch((err: unknown) => {
          if (!o.signal.aborted) ctx.log.error({ err: errorLine(err) }, "resumed follow failed; kept for the next start");
          return false;
        }),
    );
  }
  return (await Promise.all(runs)).filter(Boolean).length;
}
