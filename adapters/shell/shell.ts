import { clearLine, createInterface, cursorTo, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { type Adapter, type AdapterStatus, answering, type MessageHandler, type Posted } from "../../src/core/adapter.ts";
import { clip, errorLine } from "../../src/core/one-line.ts";
import { renderPlain } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";
import { realTimers, type WatchdogTimers } from "../common/watchdog.ts";

export interface ShellOptions {
  input?: Readable;
  output?: Writable;
  userId?: string;
  /** Show a prompt; defaults to whether input is a terminal. */
  interactive?: boolean;
  /** Say "working on …" for a command still running after `progressMs`; defaults to `interactive`. */
  progress?: boolean;
  /** Default 1000. */
  progressMs?: number;
  /** Timers for the progress note (tests advance them by hand). */
  timers?: WatchdogTimers;
}

interface Pending {
  seq: number;
  text: string;
  /** A "working on" note was printed for it: its answer then says what it answers. */
  noted: boolean;
}

/**
 * The terminal as a chat room: each line is a direct message to the bot (so "help" works as well as
 * "!binder help") from the local user (never flood-limited); replies are printed as plain text,
 * separated by a blank line. Lines are answered side by side: a fast command is not stuck behind a
 * slow one, a slow one says it is working, and an answer printed out of order says which line it
 * answers. Works with piped stdin, and ends with it once every line is answered.
 */
export class ShellAdapter implements Adapter {
  readonly platform = "shell";
  readonly #input: Readable;
  readonly #output: Writable;
  readonly #userId: string;
  readonly #interactive: boolean;
  readonly #progress: boolean;
  readonly #progressMs: number;
  readonly #timers: WatchdogTimers;
  readonly #pending = new Map<number, Pending>();
  #rl: Interface | null = null;
  #seq = 0;
  /** Messages printed so far. */
  #printed = 0;
  #resolveClosed!: () => void;
  readonly #closed = new Promise<void>((resolve) => {
    this.#resolveClosed = resolve;
  });
  #lastActivity = Date.now();

  constructor(opts: ShellOptions = {}) {
    this.#input = opts.input ?? process.stdin;
    this.#output = opts.output ?? process.stdout;
    this.#userId = opts.userId ?? "local";
    this.#interactive = opts.interactive ?? Boolean((this.#input as { isTTY?: boolean }).isTTY);
    this.#progress = opts.progress ?? this.#interactive;
    this.#progressMs = opts.progressMs ?? 1000;
    this.#timers = opts.timers ?? realTimers;
  }

  /** Resolves when the input has ended (Ctrl-D, or the end of a pipe) and every line is answered. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  async start(handler: MessageHandler): Promise<void> {
    const rl = createInterface({
      input: this.#input,
      output: this.#interactive ? this.#output : undefined,
      terminal: this.#interactive,
    });
    this.#rl = rl;
    if (this.#interactive) {
      this.#output.write("binderbot in the terminal. Type 'help' (or '!binder help'); Ctrl-D to quit.\n");
      rl.setPrompt("binderbot> ");
      rl.prompt();
    }
    const answering = new Set<Promise<void>>();
    rl.on("line", (line) => {
      this.#lastActivity = Date.now();
      if (line.trim() === "") {
        if (this.#interactive) rl.prompt();
        return;
      }
      const p = this.#answer(handler, line).finally(() => answering.delete(p));
      answering.add(p);
      if (this.#interactive) rl.prompt(); // the next line can be typed while this one is answered
    });
    rl.once("close", () => {
      void Promise.allSettled([...answering]).then(() => this.#resolveClosed());
    });
  }

  async #answer(handler: MessageHandler, line: string): Promise<void> {
    const job: Pending = { seq: ++this.#seq, text: line, noted: false };
    this.#pending.set(job.seq, job);
    const timer = this.#progress
      ? this.#timers.setTimeout(() => {
          job.noted = true;
          this.#write(`… working on '${clip(line, 60)}'`);
        }, this.#progressMs)
      : null;
    const { outlet, done } = answering(this);
    const reply = await handler(
      {
        platform: this.platform,
        room: "local",
        userId: this.#userId,
        text: line,
        eventId: `shell-${process.pid}-${job.seq}`,
        addressed: true,
        local: true,
      },
      outlet,
    ).catch((err: unknown) => ({ ok: false, blocks: [], error: errorLine(err) }) as Reply);
    if (timer !== null) this.#timers.clearTimeout(timer);
    this.#pending.delete(job.seq);
    const overtook = [...this.#pending.keys()].some((seq) => seq < job.seq);
    if (reply) this.#print(reply, job.noted || overtook ? line : null);
    done();
  }

  async send(room: string, reply: Reply): Promise<Posted> {
    return { room, id: this.#print(reply, null) };
  }

  /** A terminal cannot edit what it printed: the new text is printed as a new line. */
  async update(posted: Posted, reply: Reply): Promise<Posted> {
    return { room: posted.room, id: this.#print(reply, null) };
  }

  /** One message; `about`: the line it answers, said first when that is not obvious from the order. */
  #print(reply: Reply, about: string | null): string {
    const text = renderPlain(reply) || reply.error || "";
    return this.#write(about === null ? text : `> ${clip(about, 60)}\n${text}`);
  }

  /**
   * Each printed thing is one write, set apart from the one before by a blank line; its number is
   * the id of a Posted in the terminal.
   */
  #write(text: string): string {
    const rl = this.#rl;
    if (this.#interactive && rl) {
      // Printed over the prompt, which is then drawn again below with what was typed so far.
      cursorTo(this.#output, 0);
      clearLine(this.#output, 0);
    }
    this.#output.write(`${this.#printed++ > 0 ? "\n" : ""}${text}\n`);
    if (this.#interactive && rl) rl.prompt(true);
    return String(this.#printed);
  }

  async stop(): Promise<void> {
    this.#rl?.close();
  }

  status(): AdapterStatus {
    return { connected: this.#rl !== null, lastActivity: this.#lastActivity };
  }
}
