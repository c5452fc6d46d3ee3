import pino, { type Logger } from "pino";
import { SECRET_KEYS } from "./config/schema.ts";

export interface LogOptions {
  level: string;
  format: "auto" | "json" | "pretty";
  /** Scrubs secrets from every log line. */
  redact?: (text: string) => string;
  /** Where lines go; stderr by default so that stdout stays clean for `ask --json`. */
  fd?: 1 | 2;
  /** Write here instead of a file descriptor (tests). */
  stream?: { write(line: string): void };
}

/** JSON lines by default, readable when a person is watching a terminal. Never a secret. */
export function createLogger(opts: LogOptions): Logger {
  const fd = opts.fd ?? 2;
  const pretty = opts.format === "pretty" || (opts.format === "auto" && Boolean(process.stderr.isTTY) && fd === 2);
  const scrub = opts.redact;
  const destination = opts.stream
    ? opts.stream
    : pretty
      ? pino.transport({ target: "pino-pretty", options: { destination: fd, colorize: true, translateTime: "SYS:HH:MM:ss" } })
      : pino.destination({ fd, sync: true });
  return pino(
    {
      level: opts.level,
      base: { name: "binderbot" },
      redact: {
        paths: [...[...SECRET_KEYS].map((k) => `*.${k}`), "headers.authorization"],
        censor: "***",
      },
      ...(scrub
        ? {
            hooks: {
              streamWrite: (line: string) => scrub(line),
            },
          }
        : {}),
    },
    destination,
  );
}
