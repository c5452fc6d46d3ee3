import { escapeRe } from "../../src/core/regex.ts";

/**
 * "BinderBot: help" (a pill rendered to text) → "help": the message body without the mention of
 * `me` it starts with. The pill's text comes from formatted_body; the user id and its localpart are
 * recognised too. Linear in the size of the message, whatever it holds.
 */
export function withoutMention(content: Record<string, unknown>, me: string): string {
  const body = (content.body as string).trim();
  const names = [me, me.slice(1).split(":")[0] ?? ""];
  const html = typeof content.formatted_body === "string" ? content.formatted_body : "";
  const pill = pillText(html, [me, encodeURIComponent(me)]);
  if (pill) names.unshift(pill);
  for (const n of names.filter(Boolean)) {
    const m = new RegExp(`^@?${escapeRe(n.replace(/^@/, ""))}\\s*[:,]?\\s+`, "i").exec(body);
    if (m) return body.slice(m[0].length);
  }
  return body;
}

/**
 * The text of the first pill (`<a href="https://matrix.to/#/@bot:server">BinderBot</a>`) in a
 * message's `formatted_body` that links to one of `targets`, or undefined. One pass over the HTML
 * with indexOf, never a backtracking regex: a body of thousands of unclosed `<a …matrix.to/#/@bot`
 * costs the same as reading it once.
 */
function pillText(html: string, targets: readonly string[]): string | undefined {
  const hrefs = targets.filter(Boolean).map((t) => `matrix.to/#/${t}`);
  let at = 0;
  for (;;) {
    const open = html.indexOf("<a", at);
    if (open < 0) return undefined;
    const close = html.indexOf(">", open + 2);
    if (close < 0) return undefined; // no tag is ever closed after this point
    // `<a>` alone has no href; `<abbr …>` is read as `<a` + attributes, as a browser-agnostic regex would.
    const tag = html.slice(open + 2, close);
    at = close + 1;
    if (tag === "" || !hrefs.some((h) => tag.includes(h))) continue;
    const next = html.indexOf("<", at);
    if (next < 0) return undefined;
    if (!html.startsWith("</a>", next)) continue;
    const text = html.slice(at, next);
    if (text !== "") return decodeEntities(text);
  }
}

/** The five entities a Matrix client writes in a pill's text. */
function decodeEntities(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_all, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e] ?? "",
  );
}
