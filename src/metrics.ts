import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MessageHandler } from "./core/adapter.ts";
import { setSourceTimingSink } from "./source-timing.ts";

let promClient: typeof PromClient | undefined;
/** prom-client (CommonJS), loaded when a metric is first used: `ask` and `diagnose` never pay for it. */
function prom(): typeof PromClient {
  promClient ??= createRequire(import.meta.url)("prom-client") as typeof PromClient;
  return promClient;
}

interface Instruments {
  registry: Registry;
  messages: Counter<"platform">;
  commands: Counter<"platform" | "command" | "outcome">;
  errors: Counter<"platform" | "kind">;
  outboxSize: Gauge;
  notifications: Counter<"outcome">;
  sourceLatency: Histogram<"source">;
}

function instruments(): Instruments {
  const { Counter, Gauge, Histogram, Registry } = prom();
  const registry = new Registry();
  const registers = [registry];
  const outboxSize = new Gauge({
    name: "binderbot_notification_outbox_size",
    help: "Notifications waiting to be delivered",
    registers,
  });
  outboxSize.set(0);
  return {
    registry,
    messages: new Counter({
      name: "binderbot_messages_total",
      help: "Chat messages received from the adapters",
      labelNames: ["platform"],
      registers,
    }),
    commands: new Counter({
      name: "binderbot_commands_total",
      help: "Replies given, by command and outcome (ok|fail)",
      labelNames: ["platform", "command", "outcome"],
      registers,
    }),
    errors: new Counter({
      name: "binderbot_errors_total",
      help: "Errors outside a command's own reply (handler crash, send failure, adapter error)",
      labelNames: ["platform", "kind"],
      registers,
    }),
    outboxSize,
    notifications: new Counter({
      name: "binderbot_notifications_total",
      help: "Unasked messages by outcome: sent, retry (will be tried again), failed (given up after the last try)",
      labelNames: ["outcome"],
      registers,
    }),
    sourceLatency: new Histogram({
      name: "binderbot_source_latency_seconds",
      help: "Latency of calls to live sources",
      labelNames: ["source"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

/**
 * The bot's Prometheus metrics, on a registry of its own (never prom-client's global one, so tests
 * and several apps in one process do not collide). The core never imports this module: the
 * composition root wraps the message handler (`countingHandler`) and sources report through
 * src/source-timing.ts. prom-client itself loads on first use, so only `run` loads it.
 */
export class Metrics {
  #instruments: Instruments | undefined;
  readonly #defaultMetrics: boolean;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.#defaultMetrics = Boolean(opts.defaultMetrics);
  }

  /** prom-client is loaded and the instruments made on first use, so importing this module costs nothing. */
  get #m(): Instruments {
    if (!this.#instruments) {
      this.#instruments = instruments();
      if (this.#defaultMetrics) this.collectDefaults();
    }
    return this.#instruments;
  }

  get registry(): Registry {
    return this.#m.registry;
  }
  /** Messages handed to the bot by an adapter (addressed or not). */
  get messages(): Counter<"platform"> {
    return this.#m.messages;
  }
  /** Commands answered, by name and outcome. `command` is "" when no command was recognised. */
  get commands(): Counter<"platform" | "command" | "outcome"> {
    return this.#m.commands;
  }
  /** Things that went wrong outside a command's own failure reply: handler crash, send failure, adapter error. */
  get errors(): Counter<"platform" | "kind"> {
    return this.#m.errors;
  }
  /** Notifications waiting to be delivered (the outbox, src/notify/outbox.ts). */
  get outboxSize(): Gauge {
    return this.#m.outboxSize;
  }
  /** Unasked messages by outcome: sent, retry (a failed try that will be tried again), failed (given up). */
  get notifications(): Counter<"outcome"> {
    return this.#m.notifications;
  }
  /** How long a call to a live source (GitHub, chart index, git, CI) took. */
  get sourceLatency(): Histogram<"source"> {
    return this.#m.sourceLatency;
  }

  #defaults = false;

  /** Adds Node's process metrics (CPU, memory, event loop lag), once; `run` turns them on. */
  collectDefaults(): void {
    if (this.#defaults) return;
    this.#defaults = true;
    prom().collectDefaultMetrics({ register: this.registry, prefix: "binderbot_" });
  }

  observeSource(name: string, seconds: number): void {
    this.sourceLatency.observe({ source: name }, seconds);
  }

  error(platform: string, kind: string): void {
    this.errors.inc({ platform, kind });
  }

  /** The Prometheus text exposition and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The process-wide metrics: what `run` serves on /metrics and what sources report to. */
export const metrics = new Metrics();

// Sources report their timings through src/source-timing.ts (no prom-client there); from the moment
// this module is loaded (by `run`), they land on the process-wide metrics.
setSourceTimingSink(metrics);

export { timeSource } from "./source-timing.ts";

/** Wraps the bot's handler so every message, reply and crash is counted; behaviour is unchanged. */
export function countingHandler(handler: MessageHandler, m: Metrics = metrics): MessageHandler {
  return async (msg, outlet) => {
    m.messages.inc({ platform: msg.platform });
    try {
      const reply = await handler(msg, outlet);
      if (reply) m.commands.inc({ platform: msg.platform, command: reply.command ?? "", outcome: reply.ok ? "ok" : "fail" });
      return reply;
    } catch (err) {
      m.error(msg.platform, "handler");
      throw err;
    }
  };
}
