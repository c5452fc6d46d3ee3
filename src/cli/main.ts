import { ConfigError } from "../config/load.ts";
import { ask } from "./ask.ts";
import { checkConfig } from "./check-config.ts";
import { run } from "./run.ts";
import { UsageError } from "./usage-error.ts";

export const USAGE = `binderbot: chat-ops for chartpress-built Helm charts

usage:
  binderbot run [--config FILE]             start the configured chat adapters (the terminal when none)
  binderbot ask [--config FILE] [--as PLATFORM:USERID] [--json] [TEXT ...]
                                            answer each TEXT (or each stdin line) as if said in a room
  binderbot check-config [FILE]             validate a config; show what would start, secrets masked
  binderbot docs-commands                   print the commands reference (Markdown)
  binderbot diagnose FILE... [--json]       classify CI log files: spurious, legitimate, success or unknown

The config is --config FILE, else $BINDERBOT_CONFIG, else config/default.yaml.`;

export type Subcommand = (argv: string[]) => Promise<number>;

/** Subcommands added by other modules (diagnose, …) register here. */
export const subcommands = new Map<string, Subcommand>([
  ["run", run],
  ["ask", (argv) => ask(argv, { stdin: process.stdin, stdout: process.stdout })],
  ["check-config", async (argv) => checkConfig(argv, process.stdout)],
  [
    "docs-commands",
    async () => {
      const { commandsDoc } = await import("./docs.ts");
      process.stdout.write(commandsDoc());
      return 0;
    },
  ],
  [
    "diagnose",
    async (argv) => {
      const { diagnoseCli } = await import("./diagnose.ts");
      return diagnoseCli(argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    },
  ],
]);

/** Exit codes: 0 done, 2 bad usage or invalid config, 1 anything unexpected. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    (cmd === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  const sub = subcommands.get(cmd);
  if (!sub) {
    process.stderr.write(`binderbot: unknown subcommand '${cmd}'\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await sub(rest);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`binderbot: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`binderbot: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
