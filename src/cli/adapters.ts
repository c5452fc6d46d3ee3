import type { App } from "../app.ts";
import type { Config } from "../config/schema.ts";
import type { Adapter } from "../core/adapter.ts";
import type { HttpServer } from "../http/server.ts";
import type { Metrics } from "../metrics.ts";
import type { Send } from "../notify/outbox.ts";

/** What `run` shares with the adapters: the bot's HTTP server (when http.port > 0) and its metrics. */
export interface AdapterContext {
  http?: HttpServer;
  metrics?: Metrics;
}

/** The chat adapters a config enables, in start order; the shell when there are none. */
export function enabledAdapters(config: Config): string[] {
  const a = config.adapters;
  const out: string[] = [];
  if (a.slack?.enabled) out.push("slack");
  if (a.matrix?.enabled) out.push("matrix");
  if (a.gitter?.enabled) out.push("gitter");
  if (a.shell?.enabled) out.push("shell");
  return out;
}

/**
 * Builds the adapter objects for `run`. The composition root is the only place that imports adapters,
 * and it imports only the enabled ones: a Matrix bot never loads Bolt, a Slack bot never matrix-js-sdk.
 */
export async function buildAdapters(app: App, ctx: AdapterContext = {}): Promise<Adapter[]> {
  const names = enabledAdapters(app.services.config);
  if (names.length === 0) names.push("shell");
  const out: Adapter[] = [];
  for (const name of names) {
    switch (name) {
      case "shell": {
        const { ShellAdapter } = await import("../../adapters/shell/shell.ts");
        out.push(new ShellAdapter());
        break;
      }
      case "slack": {
        const { SlackAdapter } = await import("../../adapters/slack/slack.ts");
        const { config, log, store } = app.services;
        out.push(
          new SlackAdapter({
            config: config.adapters.slack!,
            log,
            store,
            ...(ctx.http ? { http: ctx.http } : {}),
            ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
          }),
        );
        break;
      }
      case "matrix": {
        const { MatrixAdapter, matrixOptions } = await import("../../adapters/matrix/matrix.ts");
        const { config, log, store } = app.services;
        const deps = { store, log: log.child({ adapter: "matrix" }), metrics: ctx.metrics };
        out.push(new MatrixAdapter(matrixOptions(config.adapters.matrix!, deps)));
        break;
      }
      case "gitter": {
        const { GitterAdapter } = await import("../../adapters/gitter/gitter.ts");
        const { config, log, store } = app.services;
        const deps = { store, log: log.child({ adapter: "gitter" }), metrics: ctx.metrics };
        out.push(new GitterAdapter(config.adapters.gitter!, deps));
        break;
      }
      default:
        throw new Error(`adapter '${name}' is not available in this build`);
    }
  }
  return out;
}

/** The notifier's way out: a target's platform picks the adapter, which says it in the room (and thread). */
export function sendThrough(adapters: readonly Adapter[]): Send {
  return async (target, reply) => {
    const adapter = adapters.find((a) => a.platform === target.platform);
    if (!adapter) throw new Error(`no ${target.platform} adapter is running`);
    await adapter.send(target.room, target.thread ? { ...reply, thread: target.thread } : reply);
  };
}
