import { CiError } from "../ci/provider.ts";
import type { CommandSpec } from "../core/command.ts";
import { userRef } from "../core/message.ts";
import { errorLine } from "../core/one-line.ts";
import { fail } from "../core/reply.ts";
import { Confirmations } from "../retry/confirm.ts";
import type { Services } from "../services.ts";
import { guard, start } from "./retry.ts";

/** `!binder yes`: confirms a forced retry asked for by the same person in the same room, within the window. */
export const yes: CommandSpec<Services> = {
  name: "yes",
  summary: "Confirm the forced retry you just asked for (same room, within 2 minutes)",
  description:
    "After `retry --force` of a run `why` calls legitimate, the retry waits for `yes` from the same person in the same room within retry.confirmSeconds (120 by default). The run is checked again (in progress, green, too old, budgets) before it is re-run.",
  args: [],
  examples: ["yes"],
  access: "anyone",
  sideEffects: "re-runs CI jobs, when it confirms a forced retry",
  async run(ctx) {
    const pending = await new Confirmations(ctx.services.store).take(userRef(ctx.message), ctx.message.room, ctx.services.now());
    if (!pending)
      return fail(
        `Nothing is waiting for your confirmation in this room (a confirmation lasts ${ctx.services.config.retry.confirmSeconds} s, and only the person who asked can give it).`,
      );
    try {
      const run = await ctx.services.ci.run(pending.runId);
      const blocked = await guard(ctx, run);
      if (blocked) return fail(`Not retrying: ${blocked}.`, [], { runId: run.id, retried: false });
      return await start(ctx, run, pending.scope, { verdict: pending.verdict, signature: pending.signature }, true);
    } catch (err) {
      if (err instanceof CiError) return fail(errorLine(err, 300), [], { error: err.kind });
      throw err;
    }
  },
};
