/**
 * A platform-neutral reply. Commands build these; renderers in the core turn them into plain
 * text or Markdown, and each adapter renders them for its platform (Slack mrkdwn, Matrix HTML).
 */

/** A piece of inline text. */
export type Inline = string | { code: string } | { strong: string } | { link: string; text?: string };

export type Block =
  | { type: "paragraph"; content: Inline[] }
  | { type: "code"; text: string; lang?: string }
  | { type: "fields"; fields: Field[] }
  | { type: "list"; items: Inline[][] };

export interface Field {
  name: string;
  value: Inline[];
}

export interface Reply {
  /** False when the command could not do what was asked (bad input, source failure, denial). */
  ok: boolean;
  blocks: Block[];
  /** Thread to answer in; adapters fall back to the room where threads do not exist. */
  thread?: string;
  /** Structured result for machine consumers (`ask --json`). */
  data?: Record<string, unknown> | null;
  /** One line saying what went wrong, when ok is false. */
  error?: string | null;
  /** Name of the command that produced it, null when no command was recognised. */
  command?: string | null;
}

export const code = (text: string): Inline => ({ code: text });
export const strong = (text: string): Inline => ({ strong: text });
export const link = (url: string, text?: string): Inline => (text === undefined ? { link: url } : { link: url, text });

export const para = (...content: Inline[]): Block => ({ type: "paragraph", content });
export const codeBlock = (text: string, lang?: string): Block =>
  lang === undefined ? { type: "code", text } : { type: "code", text, lang };
export const fields = (entries: Array<[string, Inline | Inline[]]>): Block => ({
  type: "fields",
  fields: entries.map(([name, v]) => ({ name, value: Array.isArray(v) ? v : [v] })),
});
export const list = (items: Array<Inline | Inline[]>): Block => ({
  type: "list",
  items: items.map((i) => (Array.isArray(i) ? i : [i])),
});

/** A successful reply made of blocks. */
export function ok(blocks: Block[], data?: Record<string, unknown> | null): Reply {
  return { ok: true, blocks, data: data ?? null, error: null };
}

/** A failed reply: one clear line, optionally followed by more blocks (usage, suggestions). */
export function fail(error: string, more: Block[] = [], data?: Record<string, unknown> | null): Reply {
  return { ok: false, blocks: [para(error), ...more], data: data ?? null, error };
}
