import { ASK_USAGE, CHECK_CONFIG_USAGE, DIAGNOSE_USAGE, DOCS_COMMANDS_USAGE, RUN_USAGE } from "./usage.ts";
import { StartError, UsageError } from "./usage-error.ts";
import { version } from "./version.ts";

const USAGE = `binderbot: chat-ops for chartpress-built Helm charts

usage:
  binderbot run [--config FILE]             start the configured chat adapters (the terminal when none)
  binderbot ask [--config FILE] [--as PLATFORM:USERID] [--json] [--follow] [TEXT ...]
                                            answer each TEXT (or each stdin line) as if said in a room
  binderbot check-config [FILE]             validate a config; show what would start, secrets masked
  binderbot docs-commands                   print the commands reference (Markdown)
  binderbot diagnose FILE... [--json] [--signatures FILE]
                                            classify CI log files: spurious, legitimate, success or unknown
  binderbot [SUBCOMMAND] --help | --version

The config is --config FILE, else $BINDERBOT_CONFIG, else config/default.yaml.`;

export type Subcommand = (argv: string[]) => Promise<number>;

export interface SubcommandEntry {
  /** Printed by `binderbot <name> --help` without loading the subcommand. */
  usage: string;
  /**
   * Runs it. Import the subcommand's module here, on demand (`await import("./x.ts")`), never at the
   * top of this file: what one subcommand needs (Bolt, matrix-js-sdk, prom-client, …) is not loaded
   * for another (test/cli-startup.test.ts checks it).
   */
  run: Subcommand;
}

/** Subcommands added by other modules register here. */
export const subcommands = new Map<string, SubcommandEntry>([
  [
    "run",
    {
      usage: RUN_USAGE,
      run: async (argv) => (await import("./run.ts")).run(argv),
    },
  ],
  [
    "ask",
    {
      usage: ASK_USAGE,
      run: async (argv) => (await import("./ask.ts")).ask(argv, { stdin: process.stdin, stdout: process.stdout }),
    },
  ],
  [
    "check-config",
    {
      usage: CHECK_CONFIG_USAGE,
      run: async (argv) => (await import("./check-config.ts")).checkConfig(argv, process.stdout),
    },
  ],
  [
    "docs-commands",
    {
      usage: DOCS_COMMANDS_USAGE,
      run: async () => {
        const { commandsDoc } = await import("./docs.ts");
        process.stdout.write(commandsDoc());
        return 0;
      },
    },
  ],
  [
    "diagnose",
    {
      usage: DIAGNOSE_USAGE,
      run: async (argv) => {
        const { diagnoseCli } = await import("./diagnose.ts");
        return diagnoseCli(argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
      },
    },
  ],
]);

const HELP = new Set(["--help", "-h"]);
const VERSION = new Set(["--version", "-V"]);

/** The options before a `--` (after it, everything is an operand, `--help` too). */
function options(argv: string[]): string[] {
  const end = argv.indexOf("--");
  return end === -1 ? argv : argv.slice(0, end);
}

/** Exit codes: 0 done, 2 bad usage or invalid config, 1 anything unexpected. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && VERSION.has(cmd)) {
    process.stdout.write(`binderbot ${version()}\n`);
    return 0;
  }
  if (cmd === "help" && rest[0] !== undefined && subcommands.has(rest[0])) return main([rest[0], "--help"]);
  if (cmd === undefined || HELP.has(cmd) || cmd === "help") {
    (cmd === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  const sub = subcommands.get(cmd);
  if (!sub) {
    process.stderr.write(`binderbot: unknown subcommand '${cmd}'\n\n${USAGE}\n`);
    return 2;
  }
  const opts = options(rest);
  if (opts.some((a) => HELP.has(a))) {
    process.stdout.write(`${sub.usage.startsWith("usage:") ? sub.usage : `usage: ${sub.usage}`}\n`);
    return 0;
  }
  if (opts.some((a) => VERSION.has(a))) {
    process.stdout.write(`binderbot ${version()}\n`);
    return 0;
  }
  try {
    return await sub.run(rest);
  } catch (err) {
    // Loaded by now whenever a config was read; imported here so `--help` never pays for the schema.
    const { ConfigError } = await import("../config/load.ts");
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`binderbot: ${err.message}\n`);
      return 2;
    }
    // The store cannot be opened (a damaged sqlite file, an unwritable dataDir, Redis unreachable):
    // one line saying what to do. `ask --json` exits 2 before answering anything, as for a bad config.
    if ((err as Error)?.name === "StoreOpenError") {
      process.stderr.write(`binderbot: ${(err as Error).message}\n`);
      return cmd === "ask" && rest.includes("--json") ? 2 : 1;
    }
    if (err instanceof StartError) {
      process.stderr.write(`binderbot: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`binderbot: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
