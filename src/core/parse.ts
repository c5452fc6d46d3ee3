import { bind } from "./args.ts";
import type { CommandSpec, FlagValue } from "./command.ts";
import type { Message } from "./message.ts";
import { escapeRe } from "./regex.ts";
import type { Registry } from "./registry.ts";
import { tokenize } from "./tokenize.ts";

/** Longest text the parser will look at; chat messages beyond it are refused, not truncated. */
export const MAX_TEXT = 4000;

/**
 * Every run of white space, of any kind (no-break, thin, ideographic, line breaks, zero-width
 * spaces), as one plain space, trimmed. Intent patterns are matched against this, so they can be
 * written with single spaces and no `\s*` runs that backtrack.
 */
function normaliseSpaces(text: string): string {
  return text.replace(/[\s\u200b]+/g, " ").trim();
}

/** `word` without trailing punctuation ("sha?" → "sha"), without a regex that backtracks on "!!!!…". */
function bareWord(word: string): string {
  let end = word.length;
  while (end > 0 && "?!.,:".includes(word[end - 1] as string)) end--;
  return word.slice(0, end);
}

export type Parsed<S> =
  /** Not addressed to the bot: say nothing. */
  | { kind: "ignore" }
  /** Addressed, but nothing after the address. */
  | { kind: "empty" }
  | {
      kind: "command";
      spec: CommandSpec<S>;
      tokens: string[];
      flags?: Record<string, FlagValue>;
      via: "prefix" | "mention" | "intent";
    }
  | { kind: "unknown"; word: string; suggestions: string[] }
  | { kind: "error"; error: string };

export interface ParserOptions {
  /** e.g. "!binder" */
  prefix: string;
  /** Names the bot answers to when mentioned: "binderbot" matches "@binderbot …", "binderbot: …". */
  names: readonly string[];
}

export class Parser<S> {
  readonly #prefix: RegExp;
  readonly #mention: RegExp | null;

  constructor(
    private readonly registry: Registry<S>,
    opts: ParserOptions,
  ) {
    this.#prefix = new RegExp(`^${escapeRe(opts.prefix)}(?=\\s|$)`, "i");
    const names = opts.names.filter((n) => n.trim() !== "").map(escapeRe);
    this.#mention = names.length
      ? new RegExp(`^(?:@(?:${names.join("|")})\\b[:,]?|(?:${names.join("|")})\\s*[:,])(?=\\s|$)`, "i")
      : null;
  }

  /** Where the address ends, or -1 when the message is not for the bot. */
  addressed(msg: Pick<Message, "text" | "addressed">): { rest: string; via: "prefix" | "mention" } | null {
    const text = msg.text.trim();
    const p = this.#prefix.exec(text);
    if (p) return { rest: text.slice(p[0].length).trim(), via: "prefix" };
    const m = this.#mention?.exec(text);
    if (m) return { rest: text.slice(m[0].length).trim(), via: "mention" };
    if (msg.addressed) return { rest: text, via: "mention" };
    return null;
  }

  parse(msg: Pick<Message, "text" | "addressed">): Parsed<S> {
    const addr = this.addressed(msg);
    if (!addr) return { kind: "ignore" };
    const { rest, via } = addr;
    if (rest === "") return { kind: "empty" };
    if (rest.length > MAX_TEXT)
      return { kind: "error", error: `that message is too long for a command (${rest.length} characters; at most ${MAX_TEXT})` };

    const firstWord = /^\S+/.exec(rest)?.[0] ?? "";
    const spec = this.registry.get(bareWord(firstWord));
    if (spec) {
      const t = tokenize(rest.slice(firstWord.length));
      // "why did the deploy fail?" starts with a command name but is a question: when the words do
      // not fit the command's arguments and an intent understands the sentence, the intent wins.
      if (t.ok && bind(spec, t.tokens).ok) return { kind: "command", spec, tokens: t.tokens, via };
      const intent = this.intent(rest);
      if (intent) return intent;
      if (!t.ok) return { kind: "error", error: t.error };
      return { kind: "command", spec, tokens: t.tokens, via };
    }

    const intent = this.intent(rest);
    if (intent) return intent;
    return { kind: "unknown", word: firstWord, suggestions: this.registry.suggest(firstWord) };
  }

  /**
   * Plain questions ("which sha do I use for #395?") mapped to commands by their declared intents,
   * matched against the text with its spaces normalised (see normaliseSpaces).
   */
  intent(raw: string): Parsed<S> | null {
    const text = normaliseSpaces(raw);
    for (const spec of this.registry.all()) {
      for (const intent of spec.intents ?? []) {
        const m = text.match(intent.pattern);
        if (!m) continue;
        const values = intent.args
          ? intent.args(m)
          : spec.args.map((a) => m.groups?.[a.name]).filter((v): v is string => v !== undefined);
        return { kind: "command", spec, tokens: values, via: "intent", ...(intent.flags ? { flags: intent.flags } : {}) };
      }
    }
    return null;
  }
}
