import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { MatrixError } from "matrix-js-sdk";

/** The message of an SDK/HTTP error in one line, without any token. */
export function oneLine(err: unknown): string {
  if (err instanceof MatrixError)
    return `${err.errcode ?? "error"} ${err.httpStatus ?? ""}: ${err.data?.error ?? err.message}`.trim();
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split("\n")[0] ?? "").replace(/access_token=[^&\s]+/g, "access_token=***");
}

/** The wait a 429 asks for (retry_after_ms), if it asks for one. */
export function retryAfter(err: unknown): number | undefined {
  if (err instanceof MatrixError && err.isRateLimitError()) {
    try {
      return err.getRetryAfterMs() ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Errors worth retrying: rate limits, server errors, and the network. Not 4xx (bad token, forbidden). */
export function transient(err: unknown): boolean {
  if (err instanceof MatrixError) return err.isRateLimitError() || (err.httpStatus ?? 500) >= 500;
  return true;
}
