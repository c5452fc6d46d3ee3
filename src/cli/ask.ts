import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { configPath, loadConfig } from "../config/load.ts";
import { answering } from "../core/adapter.ts";
import { errorLine } from "../core/one-line.ts";
import { renderPlain } from "../core/render.ts";
import type { Reply } from "../core/reply.ts";
import { startApp } from "./start-error.ts";
import { ASK_USAGE } from "./usage.ts";
import { UsageError } from "./usage-error.ts";

/**
 * One JSON line per input: the contract other tools rely on. A command that says more than its
 * answer (progress, an edit, with --follow its follow-ups) adds lines with `said: "send" | "update"`.
 */
export interface AskResult {
  input: string;
  command: string | null;
  ok: boolean;
  text: string;
  data: Record<string, unknown> | null;
  error: string | null;
  said?: "send" | "update";
}

export async function ask(argv: string[], io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }): Promise<number> {
  let parsed: ReturnType<typeof parseOpts>;
  try {
    parsed = parseOpts(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${ASK_USAGE}`);
  }
  const { values, positionals } = parsed;
  const as = values.as ?? "shell:local";
  const m = /^([a-z][a-z0-9-]*):(\S+)$/.exec(as);
  if (!m) throw new UsageError(`--as takes PLATFORM:USERID, e.g. slack:U0123ABC (got '${as}')\n${ASK_USAGE}`);
  const [, platform, userId] = m as unknown as [string, string, string];

  const loaded = loadConfig(configPath(values.config));
  const app = await startApp(loaded, { logLevel: process.env.BINDERBOT_LOG_LEVEL ?? "error" });
  let seq = 0;
  let printed = 0;
  const print = (input: string, reply: Reply | null, said?: "send" | "update"): string => {
    const result: AskResult = {
      input,
      command: reply?.command ?? null,
      ok: reply?.ok ?? true,
      text: reply ? renderPlain(reply) : "",
      data: reply?.data ?? null,
      error: reply?.error ?? null,
      ...(said ? { said } : {}),
    };
    // Plain text: answers set apart by a blank line, as in the terminal.
    const plain = `${printed > 0 ? "\n" : ""}${result.text || result.error || ""}\n`;
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : plain);
    return String(++printed);
  };
  const answer = async (input: string): Promise<void> => {
    // What a command says besides its answer is printed as further lines; it cannot be edited, so an
    // update is a new line. Without --follow, nothing is waited for after the last answer.
    const { outlet, done } = answering({
      lasting: values.follow === true,
      send: async (room, reply) => ({ room, id: print(input, reply, "send") }),
      update: async (posted, reply) => ({ room: posted.room, id: print(input, reply, "update") }),
    });
    let reply: Reply | null;
    try {
      reply = await app.bot.handle(
        // Each input is said to the bot directly (as in a DM: `binderbot ask help` answers), by the
        // person at this machine (never flood-limited).
        { platform, room: "ask", userId, text: input, eventId: `ask-${process.pid}-${++seq}`, addressed: true, local: true },
        outlet,
      );
    } catch (err) {
      reply = { ok: false, blocks: [], error: app.redact(errorLine(err)), command: null };
    }
    print(input, reply);
    done();
  };
  try {
    if (positionals.length > 0) {
      for (const text of positionals) await answer(text);
    } else {
      const rl = createInterface({ input: io.stdin, terminal: false });
      for await (const line of rl) if (line.trim() !== "") await answer(line);
    }
    if (values.follow) await app.bot.idle();
  } finally {
    await app.close();
  }
  return 0;
}

function parseOpts(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      as: { type: "string" },
      json: { type: "boolean" },
      follow: { type: "boolean" },
    },
  });
}
