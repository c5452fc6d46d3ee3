import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { MatrixError } from "matrix-js-sdk";
import { errorLine } from "../../src/core/one-line.ts";

/** An SDK/HTTP error in one line (errorLine with the Matrix errcode and status), without any token. */
export function matrixErrorLine(err: unknown): string {
  if (err instanceof MatrixError)
    return `${err.errcode ?? "error"} ${err.httpStatus ?? ""}: ${err.data?.error ?? err.message}`.trim();
  return errorLine(err).replace(/access_token=[^&\s]+/g, "access_token=***");
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
