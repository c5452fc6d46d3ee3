import { parseArgs } from "node:util";
import type { ShellAdapter } from "../../adapters/shell/shell.ts";
import { createApp } from "../app.ts";
import { configPath, loadConfig } from "../config/load.ts";
import type { Adapter } from "../core/adapter.ts";
import { buildAdapters } from "./adapters.ts";
import { UsageError } from "./usage-error.ts";

export const RUN_USAGE = "usage: binderbot run [--config FILE]";

/** Starts the adapters the config enables (the terminal when none) and runs until stopped. */
export async function run(argv: string[]): Promise<number> {
  let config: string | undefined;
  try {
    config = parseArgs({ args: argv, options: { config: { type: "string", short: "c" } } }).values.config;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${RUN_USAGE}`);
  }
  const app = await createApp(loadConfig(configPath(config)));
  const log = app.services.log;
  const adapters: Adapter[] = await buildAdapters(app);
  const handler = app.bot.handle.bind(app.bot);

  let stopping: Promise<void> | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ why }, "stopping");
      await Promise.allSettled(adapters.map((a) => a.stop()));
      await app.close();
      stopped();
    })();
    return stopping;
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stop(sig));

  for (const a of adapters) {
    await a.start(handler);
    log.info({ platform: a.platform }, "adapter started");
  }
  const shell = adapters.find((a) => a.platform === "shell") as ShellAdapter | undefined;
  if (shell && adapters.length === 1) {
    // Alone in the terminal: the session ends with its input.
    await Promise.race([shell.closed, new Promise<void>((r) => process.once("beforeExit", () => r()))]);
    await stop("input closed");
    return 0;
  }
  // Chat adapters keep the process alive; a signal ends it.
  await done;
  return 0;
}
