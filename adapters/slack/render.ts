import type { Block, Inline, Reply } from "../../src/core/reply.ts";

/** Slack's limits: section text 3000 chars, field text 2000, 10 fields a section, 50 blocks a message. */
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const BLOCKS_MAX = 50;
const TEXT_MAX = 39_000;

/**
 * Escapes the three characters Slack treats as markup in text (& < >), so `<!channel>`, `<!here>`,
 * `<!everyone>` or `<@U…>` in what a user typed shows as text; and breaks `@channel`, `@here`,
 * `@everyone` with an invisible word joiner, so echoed user text can never ping a room.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@(channel|here|everyone)\b/gi, "@\u2060$1");
}

/** Inline code: mrkdwn cannot escape a backtick inside `…`, so one is replaced by a look-alike. */
function inlineCode(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "\u02cb"))}\``;
}

function linkTarget(url: string): string {
  // `|` separates url and label in <url|label>; `>` ends the link.
  return escapeMrkdwn(url).replace(/\|/g, "%7C");
}

function mrkdwnInline(parts: Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return escapeMrkdwn(p);
      if ("code" in p) return inlineCode(p.code);
      if ("strong" in p) return `*${escapeMrkdwn(p.strong)}*`;
      return p.text === undefined || p.text === p.link
        ? `<${linkTarget(p.link)}>`
        : `<${linkTarget(p.link)}|${escapeMrkdwn(p.text).replace(/\|/g, "\u2223")}>`;
    })
    .join("");
}

function codeFence(text: string): string {
  // A ``` inside the code would end the fence early; break it with a zero-width space.
  return `\`\`\`\n${escapeMrkdwn(text.replace(/```/g, "``\u200b`"))}\n\`\`\``;
}

function mrkdwnBlock(b: Block): string {
  switch (b.type) {
    case "paragraph":
      return mrkdwnInline(b.content);
    case "code":
      return codeFence(b.text);
    case "fields":
      return b.fields.map((f) => `*${escapeMrkdwn(f.name)}*: ${mrkdwnInline(f.value)}`).join("\n");
    case "list":
      return b.items.map((i) => `\u2022 ${mrkdwnInline(i)}`).join("\n");
  }
}

/** The whole reply as one mrkdwn string: the `text` of chat.postMessage (notification + fallback). */
function renderMrkdwn(reply: Reply): string {
  const text = reply.blocks.map(mrkdwnBlock).join("\n\n");
  return clip(text || (reply.error ? escapeMrkdwn(reply.error) : ""), TEXT_MAX);
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  // Never leave an open code fence or a half entity behind.
  const fenced = (cut.match(/```/g) ?? []).length % 2 === 1 ? `${cut.replace(/&[a-z]*$/, "")}\u2026\n\`\`\`` : null;
  return fenced ?? `${cut.replace(/&[a-z]*$/, "")}\u2026`;
}

/** A Block Kit block, as chat.postMessage takes it. */
export type SlackBlock =
  | { type: "section"; text: { type: "mrkdwn"; text: string; verbatim: true } }
  | { type: "section"; fields: Array<{ type: "mrkdwn"; text: string; verbatim: true }> };

function section(text: string): SlackBlock {
  // verbatim: Slack must not turn words into mentions or links of its own; the renderer wrote every link.
  return { type: "section", text: { type: "mrkdwn", text: clip(text, SECTION_MAX), verbatim: true } };
}

/** The reply as Block Kit sections (mrkdwn), within Slack's limits. */
export function renderBlocks(reply: Reply): SlackBlock[] {
  const out: SlackBlock[] = [];
  for (const b of reply.blocks) {
    if (b.type === "fields") {
      for (let i = 0; i < b.fields.length; i += FIELDS_PER_SECTION) {
        out.push({
          type: "section",
          fields: b.fields.slice(i, i + FIELDS_PER_SECTION).map((f) => ({
            type: "mrkdwn",
            text: clip(`*${escapeMrkdwn(f.name)}*\n${mrkdwnInline(f.value)}`, FIELD_MAX),
            verbatim: true,
          })),
        });
      }
    } else {
      const text = mrkdwnBlock(b);
      if (text.trim() !== "") out.push(section(text));
    }
  }
  if (out.length > BLOCKS_MAX) {
    const rest = out.length - (BLOCKS_MAX - 1);
    out.splice(BLOCKS_MAX - 1, out.length, section(`\u2026 ${rest} more part(s) left out; see the full text above.`));
  }
  return out;
}

/** Arguments for chat.postMessage (without channel): mrkdwn text, blocks, thread. */
export function renderSlack(reply: Reply): { text: string; blocks: SlackBlock[]; thread_ts?: string } {
  const blocks = renderBlocks(reply);
  const text = renderMrkdwn(reply);
  return { text, blocks, ...(reply.thread ? { thread_ts: reply.thread } : {}) };
}

/**
 * Slack message text as a user typed it → plain text for the core: mentions of the bot removed,
 * other markup (`<@U…>`, `<#C…|name>`, `<!here>`, `<url|label>`) turned into what a person sees,
 * and `&lt; &gt; &amp;` decoded. `mentioned` says whether the bot was mentioned.
 */
export function normaliseIncoming(text: string, botUserId: string | undefined): { text: string; mentioned: boolean } {
  let mentioned = false;
  const out = text.replace(/<([^<>]*)>/g, (_all, inner: string) => {
    const [target = "", label] = inner.split("|", 2) as [string, string | undefined];
    if (target.startsWith("@")) {
      const id = target.slice(1);
      if (botUserId && id === botUserId) {
        mentioned = true;
        return "";
      }
      return label ? `@${label}` : `@${id}`;
    }
    if (target.startsWith("#")) return label ? `#${label}` : `#${target.slice(1)}`;
    if (target.startsWith("!")) {
      const special = target.slice(1).split("^")[0] ?? "";
      return label ?? `@${special}`;
    }
    // A link: the url itself (Slack adds `|label` when it shortened or the user wrote a label).
    return target;
  });
  const decoded = out.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return { text: decoded.replace(/[ \t]+/g, " ").trim(), mentioned };
}
