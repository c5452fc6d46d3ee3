import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { type Adapter, type AdapterStatus, answering, type MessageHandler, type Posted } from "../../src/core/adapter.ts";
import { renderPlain } from "../../src/core/render.ts";
import type { Reply } from "../../src/core/reply.ts";

export interface ShellOptions {
  input?: Readable;
  output?: Writable;
  userId?: string;
  /** Show a prompt; defaults to whether input is a terminal. */
  interactive?: boolean;
}

/**
 * The terminal as a chat room: each line is a direct message to the bot (so "help" works as well as
 * "!binder help"); replies are printed as plain text. Works with piped stdin, and ends with it.
 */
export class ShellAdapter implements Adapter {
  readonly platform = "shell";
  readonly #input: Readable;
  readonly #output: Writable;
  readonly #userId: string;
  readonly #interactive: boolean;
  #rl: Interface | null = null;
  #seq = 0;
  /** Messages printed so far: the id of a Posted in the terminal. */
  #printed = 0;
  /** A line is being answered (the prompt comes back after the answer). */
  #busy = false;
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
    // Lines are answered one at a time, in order, even when piped in faster than they are answered.
    let queue = Promise.resolve();
    rl.on("line", (line) => {
      this.#lastActivity = Date.now();
      queue = queue.then(async () => {
        if (line.trim() !== "") {
          this.#busy = true;
          const { outlet, done } = answering(this);
          const reply = await handler(
            {
              platform: this.platform,
              room: "terminal",
              userId: this.#userId,
              text: line,
              eventId: `shell-${process.pid}-${++this.#seq}`,
              addressed: true,
            },
            outlet,
          ).catch((err: unknown) => ({ ok: false, blocks: [], error: String(err) }) as Reply);
          if (reply) this.#print(reply);
          this.#busy = false;
          done();
        }
        if (this.#interactive) rl.prompt();
      });
    });
    rl.once("close", () => {
      void queue.then(() => this.#resolveClosed());
    });
  }

  async send(room: string, reply: Reply): Promise<Posted> {
    return { room, id: this.#printLater(reply) };
  }

  /** A terminal cannot edit what it printed: the new text is printed as a new line. */
  async update(posted: Posted, reply: Reply): Promise<Posted> {
    return { room: posted.room, id: this.#printLater(reply) };
  }

  /** Prints something said besides an answer; between questions the prompt is shown again after it. */
  #printLater(reply: Reply): string {
    const id = this.#print(reply);
    if (this.#interactive && !this.#busy) this.#rl?.prompt(true);
    return id;
  }

  #print(reply: Reply): string {
    const text = renderPlain(reply) || reply.error || "";
    this.#output.write(`${text}\n`);
    return String(++this.#printed);
  }

  async stop(): Promise<void> {
    this.#rl?.close();
  }

  status(): AdapterStatus {
    return { connected: this.#rl !== null, lastActivity: this.#lastActivity };
  }
}
