import type { Logger } from "pino";
import type { AccessPolicy } from "./access.ts";
import type { Outlet, Posted } from "./adapter.ts";
import { bind } from "./args.ts";
import type { CommandSpec, FlagValue } from "./command.ts";
import { FloodControl, type FloodOptions } from "./flood.ts";
import { type Message, userRef } from "./message.ts";
import { clip, errorLine } from "./one-line.ts";
import { Parser } from "./parse.ts";
import type { Registry } from "./registry.ts";
import { type Block, code, fail, type Inline, ok, para, type Reply } from "./reply.ts";
import { synopsis } from "./usage.ts";

export interface BotOptions<S> {
  registry: Registry<S>;
  services: S;
  prefix: string;
  names: readonly string[];
  flood: FloodOptions;
  access: AccessPolicy;
  log: Logger;
  /** Scrubs secrets from anything that leaves the bot. */
  redact?: (text: string) => string;
  now?: () => number;
}

/**
 * The command core: parse → look up the spec → flood control → access policy → bind arguments →
 * run → Reply. It knows no platform; adapters call `handle` and render what comes back.
 */
export class Bot<S> {
  readonly parser: Parser<S>;
  readonly #flood: FloodControl;
  readonly #redact: (text: string) => string;
  /** Work commands run after their answer (`ctx.later`), until it ends or the bot closes. */
  readonly #later = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  constructor(readonly opts: BotOptions<S>) {
    this.parser = new Parser(opts.registry, { prefix: opts.prefix, names: opts.names });
    this.#flood = new FloodControl(opts.flood, opts.now);
    this.#redact = opts.redact ?? ((t) => t);
  }

  get prefix(): string {
    return this.opts.prefix;
  }

  /** Answers one message; null means say nothing (not addressed, or flood silence). */
  async handle(msg: Message, outlet?: Outlet): Promise<Reply | null> {
    const started = performance.now();
    const parsed = this.parser.parse(msg);
    if (parsed.kind === "ignore") return null;
    const log = this.opts.log.child({ eventId: msg.eventId, platform: msg.platform, room: msg.room, user: msg.userId });

    const flood = msg.local ? "allow" : this.#flood.check(userRef(msg));
    if (flood === "silent") {
      log.info({ outcome: "flood-silent" }, "dropped: flood control");
      return null;
    }
    let reply: Reply;
    let command: string | null = null;
    if (flood === "refuse") {
      const { max, perSeconds } = this.opts.flood;
      reply = fail(
        `You are sending commands faster than I can answer (at most ${max} in ${perSeconds} s). I will listen again in a few seconds.`,
      );
    } else {
      switch (parsed.kind) {
        case "empty":
          reply = ok([para("Yes? Try ", code(`${this.prefix} help`), " for what I can do.")]);
          break;
        case "error":
          reply = fail(`I could not read that: ${parsed.error}.`);
          break;
        case "unknown": {
          const hint: Inline[] = parsed.suggestions.length
            ? ["Did you mean ", ...joinCode(parsed.suggestions.map((s) => `${this.prefix} ${s}`)), "? "]
            : [];
          reply = fail(`I don't know the command '${clip(parsed.word, 30)}'.`, [
            para(...hint, "Say ", code(`${this.prefix} help`), " for the list."),
          ]);
          break;
        }
        case "command":
          command = parsed.spec.name;
          reply = await this.#run(parsed.spec, parsed.tokens, parsed.flags, msg, log, outlet ?? NO_OUTLET);
          break;
      }
    }
    reply = this.#finish(reply, command, msg);
    log.info(
      { command, ok: reply.ok, ms: Math.round(performance.now() - started), ...(reply.error ? { error: reply.error } : {}) },
      "handled",
    );
    return reply;
  }

  async #run(
    spec: CommandSpec<S>,
    tokens: string[],
    implied: Record<string, FlagValue> | undefined,
    msg: Message,
    log: Logger,
    outlet: Outlet,
  ): Promise<Reply> {
    const access = await this.opts.access.check(spec, msg);
    if (!access.allowed) return fail(access.why, [], { denied: true });
    const bound = bind(spec, tokens, implied);
    if (!bound.ok) return fail(`${bound.error}.`, usage(spec, this.prefix));
    try {
      return await spec.run(
        {
          message: msg,
          services: this.opts.services,
          roles: (await this.opts.access.rolesFor(msg)).roles,
          log: log.child({ command: spec.name }),
          prefix: this.prefix,
          specs: this.opts.registry.all(),
          send: (reply) => outlet.send(msg.room, this.#finish(reply, spec.name, msg)),
          update: (posted, reply) => outlet.update(posted, this.#finish(reply, spec.name, msg)),
          later: (work) => this.#startLater(work, outlet, log.child({ command: spec.name, later: true })),
          lasting: outlet.lasting ?? true,
        },
        bound.invocation,
      );
    } catch (err) {
      log.error({ err, command: spec.name }, "command failed");
      return fail(`'${spec.name}' failed: ${errorLine(err, 300)}`);
    }
  }

  #startLater(work: (signal: AbortSignal) => Promise<void>, outlet: Outlet, log: Logger): void {
    const signal = this.#closing.signal;
    // Closing does not wait for work that ignores its signal: the race ends the task on abort.
    const stopped = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    const task = Promise.race([
      (async () => {
        await Promise.race([outlet.answered, stopped]);
        if (signal.aborted) return;
        await work(signal);
      })(),
      stopped,
    ]).catch((err: unknown) => {
      if (!signal.aborted) log.error({ err }, "later work failed");
    });
    this.#later.add(task);
    void task.finally(() => this.#later.delete(task));
  }

  /** Resolves when no command has work running `later` (ask --follow, a terminal whose input ended). */
  async idle(): Promise<void> {
    while (this.#later.size > 0) await Promise.allSettled([...this.#later]);
  }

  /** Stops the work commands run `later` (their signal aborts) and waits for it to end. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.idle();
  }

  #finish(reply: Reply, command: string | null, msg: Message): Reply {
    const r = this.#redact;
    const out: Reply = {
      ...reply,
      command: reply.command ?? command,
      blocks: reply.blocks.map((b) => redactBlock(b, r)),
      error: reply.error == null ? null : r(reply.error),
      data: reply.data ?? null,
    };
    if (msg.thread !== undefined && out.thread === undefined) out.thread = msg.thread;
    return out;
  }
}

/** For callers that pass no outlet (tests, scripts): nothing said later reaches anyone. */
const NO_OUTLET: Outlet = {
  lasting: false,
  send: () => Promise.reject(new Error("this conversation cannot be spoken to again (no outlet)")),
  update: (posted: Posted) => Promise.reject(new Error(`cannot edit ${posted.id}: this conversation has no outlet`)),
};

function usage<S>(spec: CommandSpec<S>, prefix: string): Block[] {
  return [para("Usage: ", code(synopsis(spec, prefix)), " (more: ", code(`${prefix} help ${spec.name}`), ")")];
}

function joinCode(items: string[]): Inline[] {
  return items.flatMap((s, i) => (i === 0 ? [code(s)] : [" or ", code(s)]));
}

function redactInline(i: Inline, r: (s: string) => string): Inline {
  if (typeof i === "string") return r(i);
  if ("code" in i) return { code: r(i.code) };
  if ("strong" in i) return { strong: r(i.strong) };
  return i.text === undefined ? { link: r(i.link) } : { link: r(i.link), text: r(i.text) };
}

/** A reply's blocks scrubbed of secrets (what is said outside a command: a resumed follow). */
export function scrubReply(reply: Reply, r: (s: string) => string): Reply {
  return { ...reply, blocks: reply.blocks.map((b) => redactBlock(b, r)), error: reply.error == null ? null : r(reply.error) };
}

function redactBlock(b: Block, r: (s: string) => string): Block {
  switch (b.type) {
    case "paragraph":
      return { ...b, content: b.content.map((i) => redactInline(i, r)) };
    case "code":
      return { ...b, text: r(b.text) };
    case "fields":
      return { ...b, fields: b.fields.map((f) => ({ name: r(f.name), value: f.value.map((i) => redactInline(i, r)) })) };
    case "list":
      return { ...b, items: b.items.map((it) => it.map((i) => redactInline(i, r))) };
  }
}
