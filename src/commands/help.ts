import type { CommandSpec } from "../core/command.ts";
import { code, fail, fields, list, ok, para } from "../core/reply.ts";
import { accessText, synopsis } from "../core/usage.ts";
import type { Services } from "../services.ts";

export const help: CommandSpec<Services> = {
  name: "help",
  aliases: ["commands", "h"],
  summary: "List the commands, or explain one",
  description:
    "Without an argument, lists every command. With a command name, shows its usage, arguments, examples and who may run it.",
  args: [{ name: "command", type: "string", description: "a command name or alias" }],
  examples: ["help", "help sha"],
  access: "anyone",
  sideEffects: null,
  intents: [{ pattern: /^(?:what can you do|how do i use you|help me)\b/i, args: () => [], example: "what can you do?" }],
  async run(ctx, { args }) {
    const name = args.command as string | undefined;
    if (name === undefined) {
      return ok(
        [
          para("Commands (start with ", code(ctx.prefix), " or mention me):"),
          list(ctx.specs.map((s) => [code(`${ctx.prefix} ${s.name}`), ` — ${s.summary}`])),
          para("More on one: ", code(`${ctx.prefix} help <command>`)),
        ],
        { commands: ctx.specs.map((s) => s.name) },
      );
    }
    const key = name.toLowerCase();
    const spec = ctx.specs.find((s) => s.name === key || s.aliases?.includes(key));
    if (!spec) {
      return fail(`There is no command '${name}'.`, [para("Say ", code(`${ctx.prefix} help`), " for the list.")]);
    }
    const entries: Array<[string, ReturnType<typeof code> | ReturnType<typeof code>[]]> = [
      ["Usage", code(synopsis(spec, ctx.prefix))],
    ];
    for (const a of spec.args) entries.push([`<${a.name}>`, `${a.description}${a.required ? "" : " (optional)"}`]);
    for (const f of spec.flags ?? []) entries.push([`--${f.name}`, f.description]);
    if (spec.aliases?.length) entries.push(["Aliases", spec.aliases.join(", ")]);
    entries.push(["Who may run it", accessText(spec)]);
    if (spec.sideEffects) entries.push(["Side effects", spec.sideEffects]);
    return ok(
      [
        para(code(spec.name), ` — ${spec.summary}`),
        ...(spec.description ? [para(spec.description)] : []),
        fields(entries),
        para("Examples:"),
        list(spec.examples.map((e) => code(`${ctx.prefix} ${e}`))),
        ...(spec.intents?.some((i) => i.example)
          ? [
              para("Or ask in plain words, mentioning me:"),
              list(
                spec.intents.flatMap((i) => (i.example ? [`@${ctx.services.config.names[0] ?? "binderbot"} ${i.example}`] : [])),
              ),
            ]
          : []),
      ],
      { command: spec.name },
    );
  },
};
