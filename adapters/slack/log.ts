import { LogLevel, type Logger as SlackLogger } from "@slack/bolt";
import type { Logger } from "pino";
import { errorLine } from "../../src/core/one-line.ts";

/** An error in one line (errorLine) for logs and start failures: Slack's error code when it has one, never a token. */
export function slackErrorLine(err: unknown): string {
  const e = err as { data?: { error?: string } } | null;
  if (e?.data?.error) return e.data.error;
  return errorLine(err).replace(/(xox[abpr]|xapp)-[\w-]+/g, "$1-***");
}

/** Bolt's logger interface over pino (debug from Bolt stays at debug). */
export function boltLogger(log: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === "string" ? m : slackErrorLine(m))).join(" ");
  return {
    debug: (...msg: unknown[]) => log.debug(fmt(msg)),
    info: (...msg: unknown[]) => log.info(fmt(msg)),
    warn: (...msg: unknown[]) => log.warn(fmt(msg)),
    error: (...msg: unknown[]) => log.error(fmt(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
