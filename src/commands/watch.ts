import type { CommandContext, CommandSpec, Invocation } from "../core/command.ts";
import { code, fail, ok, para, type Reply } from "../core/reply.ts";
import { TOPICS, type Topic } from "../notify/subscriptions.ts";
import type { Services } from "../services.ts";

const TOPIC_HELP =
  "charts (a new chart version is published), deploys (a deploy run ended), behind (the daily versions-behind count), or all";

/** The topics named in `words` ("all" is every one); an error line for an unknown word. */
function topicsOf(words: string): Topic[] | { error: string } {
  const list = words.split(/[\s,]+/).filter(Boolean);
  if (list.length === 0) return { error: `Which? ${TOPIC_HELP}.` };
  const out = new Set<Topic>();
  for (const w of list.map((x) => x.toLowerCase())) {
    if (w === "all") for (const t of TOPICS) out.add(t);
    else if ((TOPICS as readonly string[]).includes(w)) out.add(w as Topic);
    else return { error: `'${w.slice(0, 40)}' is not something I can watch: ${TOPIC_HELP}.` };
  }
  return [...out];
}

function roomLine(ctx: CommandContext<Services>, topics: readonly Topic[]): Reply {
  const room = `${ctx.message.platform}:${ctx.message.room}`;
  const blocks =
    topics.length === 0
      ? [para("This room (", code(room), ") is told nothing unasked. ", code(`${ctx.prefix} watch all`), " changes that.")]
      : [para("This room (", code(room), `) is told unasked about: ${topics.join(", ")}.`)];
  return ok(blocks, { room, topics: [...topics] });
}

function change(on: boolean) {
  return async (ctx: CommandContext<Services>, input: Invocation): Promise<Reply> => {
    const topics = topicsOf(String(input.args.topics ?? ""));
    if ("error" in topics) return fail(topics.error);
    const m = ctx.message;
    const after = await ctx.services.notify.subscriptions.change(m.platform, m.room, topics, on);
    return roomLine(ctx, after);
  };
}

const topicsArg = {
  name: "topics",
  type: "rest",
  required: true,
  description: "charts, deploys, behind, or all (several may be given)",
} as const;

export const watch: CommandSpec<Services> = {
  name: "watch",
  summary: "Tell this room unasked: new chart versions, finished deploys, versions behind",
  description:
    "Subscribes the room this is said in (stored; notify.rooms in the config gives the defaults). charts: each newly published chart version with its PR; deploys: each deploy run that ended, with the why verdict when it failed; behind: once a day, how many chart versions the deploy is behind.",
  args: [topicsArg],
  examples: ["watch charts", "watch all"],
  access: "anyone",
  sideEffects: "changes what this room is told unasked (stored)",
  run: change(true),
};

export const unwatch: CommandSpec<Services> = {
  name: "unwatch",
  summary: "Stop telling this room about charts, deploys or versions behind",
  args: [topicsArg],
  examples: ["unwatch deploys", "unwatch all"],
  access: "anyone",
  sideEffects: "changes what this room is told unasked (stored)",
  run: change(false),
};

export const watching: CommandSpec<Services> = {
  name: "watching",
  summary: "What this room is told unasked",
  args: [],
  examples: ["watching"],
  access: "anyone",
  sideEffects: null,
  intents: [{ pattern: /^what (?:is|does) this room (?:watch|get told)/i, example: "what does this room watch?" }],
  async run(ctx) {
    const m = ctx.message;
    return roomLine(ctx, await ctx.services.notify.subscriptions.of(m.platform, m.room));
  },
};
