import type { Block, Inline, Reply } from "./reply.ts";

/** Plain text: what the shell prints and `ask` returns as `text`. */
export function renderPlain(reply: Reply): string {
  return reply.blocks.map(plainBlock).join("\n\n");
}

function plainInline(parts: Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return p;
      if ("code" in p) return p.code;
      if ("strong" in p) return p.strong;
      return p.text === undefined || p.text === p.link ? p.link : `${p.text} (${p.link})`;
    })
    .join("");
}

function plainBlock(b: Block): string {
  switch (b.type) {
    case "paragraph":
      return plainInline(b.content);
    case "code":
      return b.text
        .split("\n")
        .map((l) => `    ${l}`)
        .join("\n");
    case "fields":
      return b.fields.map((f) => `${f.name}: ${plainInline(f.value)}`).join("\n");
    case "list":
      return b.items.map((i) => `  - ${plainInline(i)}`).join("\n");
  }
}

/** CommonMark: for docs, GitHub comments, and Matrix/Gitter plain `body`. */
export function renderMarkdown(reply: Reply): string {
  return reply.blocks.map(markdownBlock).join("\n\n");
}

/** Backticks that cannot be closed early by the content. */
function mdCode(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

export function mdEscape(text: string): string {
  return text.replace(/([\\`*_[\]<>#|~])/g, "\\$1");
}

function markdownInline(parts: Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return mdEscape(p);
      if ("code" in p) return mdCode(p.code);
      if ("strong" in p) return `**${mdEscape(p.strong)}**`;
      return p.text === undefined ? `<${p.link}>` : `[${mdEscape(p.text)}](${p.link})`;
    })
    .join("");
}

function markdownBlock(b: Block): string {
  switch (b.type) {
    case "paragraph":
      return markdownInline(b.content);
    case "code": {
      const runs = b.text.match(/`{3,}/g) ?? [];
      const fence = "`".repeat(Math.max(3, ...runs.map((r) => r.length + 1)));
      return `${fence}${b.lang ?? ""}\n${b.text}\n${fence}`;
    }
    case "fields":
      return b.fields.map((f) => `- **${mdEscape(f.name)}**: ${markdownInline(f.value)}`).join("\n");
    case "list":
      return b.items.map((i) => `- ${markdownInline(i)}`).join("\n");
  }
}
