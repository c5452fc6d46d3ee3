import type { CommandSpec } from "../core/command.ts";
import { type Block, code, fail, type Inline, list, ok, para, strong } from "../core/reply.ts";
import { DeployFacts, type Mark, stepState } from "../deploy/checklist-state.ts";
import { ChecklistsError, DEFAULT_CHECKLISTS, loadChecklists } from "../deploy/checklists.ts";
import type { Services } from "../services.ts";

const MARK: Record<Mark, string> = { done: "✓", "not-done": "✗", unknown: "?" };

/** Inline `code` spans of a step's text (`!binder bump` → code). */
function stepText(text: string): Inline[] {
  return text
    .split(/(`[^`]+`)/)
    .map((part) => (/^`[^`]+`$/.test(part) ? code(part.slice(1, -1)) : part))
    .filter((p) => p !== "");
}

/**
 * `!binder checklist <name>`: the deploy checklists of config/checklists.yaml with each step's live
 * state (src/deploy/checklist-state.ts), so a person sees what is left.
 */
export const checklist: CommandSpec<Services> = {
  name: "checklist",
  summary: "A deploy checklist (staging, prod) with each step's live state: ✓ / ✗ / ?",
  description:
    "Shows a checklist from the checklists file (config/checklists.yaml: mybinder.org's staging and prod lists) with the live state of each step the bot can know: ✓ done, ✗ not done (with the reason), ? cannot tell (and why). Steps only a person can tell are shown without a mark. Without a name: the checklists there are.",
  args: [{ name: "name", type: "string", description: "which checklist (e.g. staging, prod)" }],
  examples: ["checklist staging", "checklist prod"],
  access: "anyone",
  sideEffects: null,
  intents: [
    {
      pattern: /^what(?:'s| is) left (?:to do )?(?:for|on|before) (?:the )?(?<name>[a-z0-9-]+)(?: deploy)?\b/i,
      example: "what's left for prod?",
    },
  ],
  async run(ctx, { args }) {
    const file = ctx.services.config.checklists ?? DEFAULT_CHECKLISTS;
    let lists: Awaited<ReturnType<typeof loadChecklists>>;
    try {
      lists = await loadChecklists(file);
    } catch (e) {
      if (e instanceof ChecklistsError) return fail(`${e.message}.`);
      throw e;
    }
    const names = Object.keys(lists);
    const name = args.name as string | undefined;
    if (name === undefined) {
      return ok([para("Checklists: ", ...names.flatMap((n, i) => [i ? ", " : "", code(`${ctx.prefix} checklist ${n}`)]))], {
        checklists: names,
      });
    }
    const cl = lists[name];
    if (!cl) return fail(`There is no checklist '${name}' (checklists: ${names.join(", ")}).`);
    const facts = new DeployFacts(ctx.services);
    const states = await Promise.all(cl.steps.map((step) => stepState(step, facts)));
    const items = cl.steps.map((step, i): Inline[] => {
      const st = states[i]!;
      const mark = st.mark ? `${MARK[st.mark]} ` : "• ";
      return [mark, ...stepText(step.text), ...(st.reason ? [` — ${st.reason}`] : [])];
    });
    // What is left: the first step not done, else the first the bot cannot tell.
    const notDone = states.findIndex((st) => st.mark === "not-done");
    const next = notDone >= 0 ? notDone : states.findIndex((st) => st.mark === "unknown");
    const blocks: Block[] = [para(strong(cl.title ?? name)), list(items)];
    if (next >= 0) blocks.push(para(`Next: step ${next + 1}, `, ...stepText(cl.steps[next]!.text)));
    else blocks.push(para("Every step the bot can check is done; the unmarked ones are yours to confirm."));
    return ok(blocks, {
      checklist: name,
      steps: cl.steps.map((step, i) => ({ text: step.text, check: step.check ?? null, ...states[i]! })),
      next: next >= 0 ? next + 1 : null,
    });
  },
};
