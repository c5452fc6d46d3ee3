import { parseArgs } from "node:util";
import type { ShellAdapter } from "../../adapters/shell/shell.ts";
import { configPath, loadConfig } from "../config/load.ts";
import type { Adapter } from "../core/adapter.ts";
import { errorLine } from "../core/one-line.ts";
import { HttpServer } from "../http/server.ts";
import { countingHandler, metrics } from "../metrics.ts";
import { registerWebhook } from "../notify/webhook.ts";
import { buildAdapters, enabledAdapters, sendThrough } from "./adapters.ts";
import { listenProblem, startApp } from "./start-error.ts";
import { RUN_USAGE } from "./usage.ts";
import { UsageError } from "./usage-error.ts";

/** Starts the adapters the config enables (the terminal when none) and runs until stopped. */
export async function run(argv: string[]): Promise<number> {
  let config: string | undefined;
  try {
    config = parseArgs({ args: argv, options: { config: { type: "string", short: "c" } } }).values.config;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${RUN_USAGE}`);
  }
  const loaded = loadConfig(configPath(config));
  const chat = enabledAdapters(loaded.config).filter((a) => a !== "shell");
  // The terminal alone: every handled message logged would land between the answers, typed or
  // piped (`binderbot run < questions.txt` in a terminal shows stderr and stdout together).
  const quiet = chat.length === 0;
  const app = await startApp(loaded, quiet ? { logLevel: process.env.BINDERBOT_LOG_LEVEL ?? "error" } : {});
  const log = app.services.log;
  const { http: httpConfig } = app.services.config;
  // The bot's one HTTP server (health, readiness, metrics, Slack events, webhooks); port 0 = off.
  const http = httpConfig.port > 0 ? new HttpServer({ port: httpConfig.port, host: httpConfig.host, log, metrics }) : undefined;
  if (http) metrics.collectDefaults();
  const adapters: Adapter[] = await buildAdapters(app, { ...(http ? { http } : {}), metrics });
  // Counted here, so the core stays free of prom-client.
  const handler = countingHandler(app.bot.handle.bind(app.bot), metrics);
  for (const a of adapters) http?.addReadiness(a.platform, () => a.status());
  const { store } = app.services;
  if (store.status) http?.addReadiness("store", () => store.status?.() ?? { connected: true });

  let stopping: Promise<void> | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ why }, "stopping");
      await app.services.notify.stop();
      // Answers in progress get a deadline (a hung GitHub must not hold the pod past its grace period);
      // what is unfinished then is abandoned unanswered: its event is redelivered to the next process.
      const graceMs = app.services.config.shutdownGraceSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((r) => {
        timer = setTimeout(() => r("late"), graceMs);
      });
      const adaptersStopped = Promise.allSettled(adapters.map((a) => a.stop()));
      if ((await Promise.race([adaptersStopped, late])) === "late") {
        log.warn(
          { graceSeconds: graceMs / 1000 },
          "stopping: answers still in progress are abandoned; they are answered after the restart",
        );
        for (const a of adapters) a.abandon?.();
      }
      clearTimeout(timer);
      app.abort();
      await http?.stop();
      await app.close();
      stopped();
    })();
    return stopping;
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stop(sig));

  try {
    await http?.start();
  } catch (err) {
    // A busy port, a privileged one: one line naming it, no stack.
    process.stderr.write(`binderbot: ${listenProblem(httpConfig.host, httpConfig.port, err)}\n`);
    await stop("the http server could not listen");
    return 1;
  }
  for (const a of adapters) {
    try {
      await a.start(handler);
    } catch (err) {
      // One clear line (a bad token, an unreachable server), no stack; the others are stopped again.
      const why = app.redact(errorLine(err));
      process.stderr.write(`binderbot: ${a.platform} could not start: ${why}\n`);
      metrics.error(a.platform, "start");
      await stop(`${a.platform} failed to start`);
      return 1;
    }
    log.info({ platform: a.platform }, "adapter started");
  }
  // Unasked messages go out through the adapters' send(room, reply), once they are up.
  await app.services.notify.start(sendThrough(adapters));
  // Follows a restart interrupted (`retry`, `bump`) go on, each on one replica, to their deadline.
  void app.resumeFollows();
  if (http) registerWebhook(http, { ...app.services, notifier: app.services.notify, metrics });
  const shell = adapters.find((a) => a.platform === "shell") as ShellAdapter | undefined;
  const shellWatches = Object.keys(app.services.config.notify.rooms).some((r) => r.startsWith("shell:"));
  if (shell && adapters.length === 1 && !shellWatches) {
    // Alone in the terminal: the session ends with its input, once what commands said they would
    // follow (a retried run) has been said; Ctrl-C ends it at once.
    await Promise.race([
      shell.closed.then(() => app.bot.idle()),
      new Promise<void>((r) => process.once("beforeExit", () => r())),
      done,
    ]);
    await stop("input closed");
    return 0;
  }
  // Chat adapters (or a terminal subscribed to notifications) keep the process alive; a signal ends it.
  await done;
  return 0;
}
