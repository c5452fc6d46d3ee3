import type { Logger } from "pino";
import type { Posted } from "./adapter.ts";
import type { Message } from "./message.ts";
import type { Reply } from "./reply.ts";

/** Types a positional argument can have; values are checked before a command runs. */
export type ArgType =
  /** any single token */
  | "string"
  /** a non-negative integer */
  | "int"
  /** a git ref as users write it: 7–40 hex, `#395`, `395`, a PR URL, or a branch/tag name */
  | "ref"
  /** one of `choices` */
  | "enum"
  /** all remaining tokens joined by spaces (last argument only) */
  | "rest";

export interface ArgSpec {
  name: string;
  type: ArgType;
  description: string;
  required?: boolean;
  choices?: readonly string[];
  /**
   * An optional argument that stands before others (`sha [chart] [ref]`): when fewer values are
   * given than arguments declared, leading optional arguments are skipped first; so is one whose
   * value plainly is the next argument (a commit hash or PR where a ref follows).
   */
  leading?: boolean;
}

export interface FlagSpec {
  name: string;
  type: "boolean" | "string" | "int";
  description: string;
}

/** A plain-language question that maps to this command ("which sha do I use for #395?"). */
export interface Intent {
  pattern: RegExp;
  /** A question this intent understands, for help and the docs ("which sha do I use for #395?"). */
  example?: string;
  /** Positional arguments taken from the match; by default, named groups in argument order. */
  args?: (match: RegExpMatchArray) => string[];
  /** Flags implied by the question. */
  flags?: Record<string, string | boolean>;
}

export type ArgValue = string | number | undefined;
export type FlagValue = string | number | boolean;

export interface Invocation {
  args: Record<string, ArgValue>;
  flags: Record<string, FlagValue>;
  /** The tokens after the command name, as typed. */
  tokens: string[];
}

export interface CommandContext<S> {
  message: Message;
  services: S;
  /** Roles the access policy gives the sender (always includes "user"). */
  roles: string[];
  log: Logger;
  /** The configured prefix, for replies that tell the user what to type next. */
  prefix: string;
  /** All command specs, for commands that describe others (help). */
  specs: readonly CommandSpec<S>[];
  /**
   * Says something more in the asker's room and thread, besides the returned answer: progress while
   * the command runs, or a follow-up `later`. Scrubbed of secrets like every reply. Returns where it
   * landed, for `update`.
   */
  send(reply: Reply): Promise<Posted>;
  /** Edits a message `send` posted (Slack chat.update, a Matrix m.replace edit; the terminal prints a new line). */
  update(posted: Posted, reply: Reply): Promise<Posted>;
  /**
   * Runs work after the answer is posted (following a CI run, a long operation). It may `send` and
   * `update`; a failure is logged, never thrown at the user; the signal aborts when the bot stops.
   */
  later(work: (signal: AbortSignal) => Promise<void>): void;
  /**
   * False when nothing said after the answer reaches anyone (one-shot `ask` without --follow, or a
   * caller with no outlet): do not promise a follow-up then.
   */
  lasting: boolean;
}

export interface CommandSpec<S> {
  name: string;
  aliases?: readonly string[];
  /** One line, shown in the help list. */
  summary: string;
  /** Longer text for `help <command>` and the docs page. */
  description?: string;
  args: readonly ArgSpec[];
  flags?: readonly FlagSpec[];
  /** Full example invocations without the prefix, e.g. `sha 4e3bafb`. */
  examples: readonly string[];
  /** "anyone", or the roles (any of them) allowed to run it. */
  access: "anyone" | readonly string[];
  /** What it changes outside the bot, or null for read-only commands. */
  sideEffects: string | null;
  intents?: readonly Intent[];
  run(ctx: CommandContext<S>, input: Invocation): Promise<Reply>;
}
