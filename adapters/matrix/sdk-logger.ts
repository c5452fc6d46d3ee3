import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";
import type { Logger } from "pino";

/**
 * matrix-js-sdk logs through one global loglevel logger (every dropped long-poll at error level, and
 * some modules bind `logger.log` when they load). This module is imported before the SDK itself so
 * those bindings already see the replacement: the SDK's lines go to the adapters' pino loggers at
 * debug level, and the adapter reports connection trouble itself, once and with context.
 */
export const sdkSinks = new Set<Logger>();

const root = sdkLogger as unknown as {
  methodFactory: (method: string) => (...args: unknown[]) => void;
  rebuild(): void;
};
root.methodFactory =
  (method: string) =>
  (...args: unknown[]) => {
    if (sdkSinks.size === 0) return;
    const text = args.map((a) => (a instanceof Error ? a.message : typeof a === "string" ? a : JSON.stringify(a))).join(" ");
    for (const log of sdkSinks) log.debug({ sdk: method }, text.slice(0, 2000));
  };
root.rebuild();
