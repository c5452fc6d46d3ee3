import { channel as diagnosticsChannel } from "node:diagnostics_channel";
import type { SocketModeReceiver } from "@slack/bolt";
import type { Logger } from "pino";
import type { Metrics } from "../../src/metrics.ts";
import { Watchdog, type WatchdogTimers } from "../common/watchdog.ts";
import { slackErrorLine } from "./log.ts";

type SocketModeClient = SocketModeReceiver["client"];

export interface SlackSocketOptions {
  log: Logger;
  metrics?: Metrics | undefined;
  /** Silence longer than timeoutMs forces a reconnect. false: off. */
  watchdog?: false | { timeoutMs?: number; timers?: WatchdogTimers } | undefined;
  /** The connection state changed: connected or not, and a word for /readyz. */
  onState(connected: boolean, state: string): void;
  /** A sign of life: a (re)connection, a frame, a pong. */
  onHeard(): void;
  /** The watchdog is replacing a silent connection (counted; not connected until it is back). */
  onRestart(): void;
}

/**
 * Socket Mode glue. The socket-mode client reconnects by itself after a close, a missed pong or
 * Slack's `disconnect`; this adds what it lacks: its state for /readyz, pongs as the steady sign of
 * life on a quiet workspace, and a watchdog for the connection that looks open but says nothing.
 */
export class SlackSocket {
  readonly #client: SocketModeClient;
  readonly #o: SlackSocketOptions;
  #watchdog: Watchdog | null = null;
  #restarting: Promise<void> | null = null;
  #unsubscribePong: (() => void) | null = null;
  #stopping = false;

  constructor(receiver: SocketModeReceiver, o: SlackSocketOptions) {
    this.#client = receiver.client;
    this.#o = o;
    this.#watch();
  }

  #watch(): void {
    const client = this.#client;
    const set = (connected: boolean, state: string) => () => {
      this.#o.onState(connected, state);
      if (connected) this.#o.onHeard();
      else if (!this.#stopping) this.#o.log.warn({ state }, "slack socket not connected");
    };
    client.on("connected", set(true, "connected"));
    client.on("reconnecting", set(false, "reconnecting"));
    client.on("disconnecting", set(false, "disconnecting"));
    client.on("disconnected", set(false, "disconnected"));
    client.on("close", set(false, "closed"));
    client.on("connected", () => this.#o.log.info("slack socket connected"));
    client.on("ws_message", () => this.#o.onHeard());
    // Pongs to the client's pings are the steady sign of life on a quiet workspace.
    const ch = diagnosticsChannel("undici:websocket:pong");
    const onPong = (m: unknown) => {
      const inner = (client as unknown as { websocket?: { websocket?: unknown } }).websocket?.websocket;
      if (inner && (m as { websocket?: unknown }).websocket === inner) this.#o.onHeard();
    };
    ch.subscribe(onPong);
    this.#unsubscribePong = () => ch.unsubscribe(onPong);
  }

  /** Starts the watchdog (once the app has started), unless it is off. */
  startWatchdog(): void {
    const wd = this.#o.watchdog;
    if (wd === false) return;
    this.#watchdog = new Watchdog({
      timeoutMs: wd?.timeoutMs ?? 120_000,
      ...(wd?.timers ? { timers: wd.timers } : {}),
      onSilent: (ms) => this.#restart(`silent for ${Math.round(ms / 1000)} s`),
      onError: (err) => this.#o.log.error({ err: slackErrorLine(err) }, "slack watchdog reconnect failed"),
    });
    this.#watchdog.start();
  }

  /** Something arrived (an event the adapter handled, or a sign of life this glue reported through onHeard). */
  heard(): void {
    this.#watchdog?.heard();
  }

  /**
   * Tears the socket down and opens a new one. The socket-mode client reconnects by itself after a
   * close or a missed pong; this is for the connection that looks open but says nothing.
   */
  #restart(why: string): Promise<void> {
    if (this.#restarting || this.#stopping) return this.#restarting ?? Promise.resolve();
    const client = this.#client;
    this.#restarting = (async () => {
      this.#o.onRestart();
      this.#o.log.warn({ why }, "slack connection silent; reconnecting");
      this.#o.metrics?.error("slack", "watchdog");
      await disconnectNow(client);
      if (this.#stopping) return;
      await client.start();
    })().finally(() => {
      this.#restarting = null;
    });
    return this.#restarting;
  }

  /** The first half of stop: no more watchdog, pongs or restarts (waits for one in progress). */
  async halt(): Promise<void> {
    this.#stopping = true;
    this.#watchdog?.stop();
    this.#unsubscribePong?.();
    this.#unsubscribePong = null;
    await this.#restarting?.catch(() => {});
  }

  /** Closes the socket without waiting for a close handshake from a peer that may be gone. */
  disconnect(): Promise<void> {
    return disconnectNow(this.#client);
  }
}

async function disconnectNow(client: SocketModeClient): Promise<void> {
  const ws = (client as unknown as { websocket?: { disconnect(): void } }).websocket;
  const done = client.disconnect();
  ws?.disconnect(); // the second call does not wait for a close handshake a dead peer will never send
  await done;
}
