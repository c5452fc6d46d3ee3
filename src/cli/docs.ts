import { commands } from "../commands/index.ts";
import { mdEscape } from "../core/render.ts";
import { accessText, synopsis } from "../core/usage.ts";

/** docs/commands.md, generated from the command specs (npm run docs:commands). */
export function commandsDoc(prefix = "!binder"): string {
  const out = [
    "# Commands",
    "",
    "<!-- Generated from the command specs by `npm run docs:commands`; do not edit by hand. -->",
    "",
    `Every command starts with \`${prefix}\` (the \`prefix\` key), or addresses the bot by name ` +
      "(`@binderbot sha #395`, `binderbot: why`). Plain questions work too; the ones each command understands are listed with it.",
    "",
    "| command | what it does | who may run it |",
    "|---|---|---|",
    ...commands.map((c) => `| [\`${c.name}\`](#${c.name}) | ${mdEscape(c.summary)} | ${accessText(c)} |`),
    "",
  ];
  for (const c of commands) {
    out.push(`## ${c.name}`, "", `${c.summary}.`, "");
    if (c.description) out.push(c.description, "");
    out.push("```", synopsis(c, prefix), "```", "");
    if (c.args.length || c.flags?.length) {
      out.push("| argument | meaning |", "|---|---|");
      for (const a of c.args) out.push(`| \`<${a.name}>\`${a.required ? "" : " (optional)"} | ${mdEscape(a.description)} |`);
      for (const f of c.flags ?? []) out.push(`| \`--${f.name}\` | ${mdEscape(f.description)} |`);
      out.push("");
    }
    if (c.aliases?.length) out.push(`Aliases: ${c.aliases.map((a) => `\`${a}\``).join(", ")}.`, "");
    out.push(`Who may run it: ${accessText(c)}.${c.sideEffects ? ` Side effects: ${c.sideEffects}.` : ""}`, "");
    out.push("Examples:", "", ...c.examples.map((e) => `- \`${prefix} ${e}\``), "");
    if (c.intents?.length)
      out.push(
        "Plain questions it understands:",
        "",
        ...c.intents.map((i) => (i.example ? `- "${i.example}"` : `- matching \`${i.pattern.source}\``)),
        "",
      );
  }
  return `${out.join("\n").trimEnd()}\n`;
}
