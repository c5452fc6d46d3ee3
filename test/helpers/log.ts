import pino, { type Logger } from "pino";

/** A logger that writes nothing: for tests and benchmarks, where the bot's own logs are noise. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
