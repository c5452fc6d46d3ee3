import { renderMarkdown } from "../../src/core/render.ts";
import type { Block, Inline, Reply } from "../../src/core/reply.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** Only these schemes become links; anything else (javascript:, data:) is shown as text. */
const SAFE_URL = /^(https?:|mailto:)/i;

function inlineHtml(parts: Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return escapeHtml(p);
      if ("code" in p) return `<code>${escapeHtml(p.code)}</code>`;
      if ("strong" in p) return `<strong>${escapeHtml(p.strong)}</strong>`;
      const text = escapeHtml(p.text ?? p.link);
      return SAFE_URL.test(p.link) ? `<a href="${escapeHtml(p.link)}">${text}</a>` : text;
    })
    .join("");
}

function blockHtml(b: Block): string {
  switch (b.type) {
    case "paragraph":
      return `<p>${inlineHtml(b.content)}</p>`;
    case "code": {
      const cls = b.lang && /^[\w+-]+$/.test(b.lang) ? ` class="language-${b.lang}"` : "";
      return `<pre><code${cls}>${escapeHtml(b.text)}</code></pre>`;
    }
    case "fields":
      return `<ul>${b.fields.map((f) => `<li><strong>${escapeHtml(f.name)}</strong>: ${inlineHtml(f.value)}</li>`).join("")}</ul>`;
    case "list":
      return `<ul>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join("")}</ul>`;
  }
}

/** The `formatted_body` (org.matrix.custom.html) of a reply: every piece of text HTML-escaped. */
export function renderHtml(reply: Reply): string {
  return reply.blocks.map(blockHtml).join("");
}

export interface MatrixRelation {
  /** The event being answered (m.in_reply_to). */
  inReplyTo?: string;
  /** The thread root, when answering in a thread. */
  thread?: string;
}

/**
 * An m.notice for a reply: `body` in Markdown (what clients without HTML show), `formatted_body` in
 * HTML, and `m.relates_to` making it a reply to the asking event, inside its thread when there is one.
 * Bots speak in notices so that other bots do not answer them.
 */
export function noticeContent(reply: Reply, rel: MatrixRelation = {}): Record<string, unknown> {
  const content: Record<string, unknown> = {
    msgtype: "m.notice",
    body: renderMarkdown(reply) || reply.error || "",
    format: "org.matrix.custom.html",
    formatted_body: renderHtml(reply) || escapeHtml(reply.error ?? ""),
    "m.mentions": {},
  };
  if (rel.thread) {
    content["m.relates_to"] = {
      rel_type: "m.thread",
      event_id: rel.thread,
      // A real reply to the asking event when we have one; otherwise the thread fallback.
      is_falling_back: rel.inReplyTo === undefined,
      "m.in_reply_to": { event_id: rel.inReplyTo ?? rel.thread },
    };
  } else if (rel.inReplyTo) {
    content["m.relates_to"] = { "m.in_reply_to": { event_id: rel.inReplyTo } };
  }
  return content;
}

/**
 * An edit (m.replace) of a notice the bot posted: the new content in `m.new_content`, and a `* `
 * fallback for clients that do not apply edits. The edit keeps the original's place and thread.
 */
export function editContent(reply: Reply, eventId: string): Record<string, unknown> {
  const { "m.relates_to": _rel, ...fresh } = noticeContent(reply);
  return {
    ...fresh,
    body: `* ${fresh.body as string}`,
    formatted_body: `* ${fresh.formatted_body as string}`,
    "m.new_content": fresh,
    "m.relates_to": { rel_type: "m.replace", event_id: eventId },
  };
}
