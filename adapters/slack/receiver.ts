import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App, Receiver, Logger as SlackLogger } from "@slack/bolt";
import { HTTPResponseAck } from "@slack/bolt";
import { BodyTooLargeError, type HttpServer, readBody, sendJson } from "../../src/http/server.ts";

/** Slack refuses requests older than five minutes; so do we (both directions: clocks drift). */
const MAX_SKEW_S = 5 * 60;

/**
 * Checks Slack's request signature: `v0=` HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the
 * signing secret, and a timestamp within five minutes of now. Returns why it is bad, or null.
 */
export function checkSignature(
  signingSecret: string,
  rawBody: string,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  nowMs = Date.now(),
): string | null {
  if (!timestampHeader || !signatureHeader) return "missing signature headers";
  const ts = Number(timestampHeader);
  if (!Number.isInteger(ts)) return "bad timestamp";
  if (Math.abs(Math.floor(nowMs / 1000) - ts) > MAX_SKEW_S) return "stale timestamp";
  const [version, hash] = signatureHeader.split("=", 2);
  if (version !== "v0" || !hash) return "unknown signature version";
  const ours = createHmac("sha256", signingSecret).update(`v0:${ts}:${rawBody}`).digest();
  const theirs = Buffer.from(hash, "hex");
  if (theirs.length !== ours.length || !timingSafeEqual(theirs, ours)) return "signature mismatch";
  return null;
}

export interface SlackHttpReceiverOptions {
  server: HttpServer;
  signingSecret: string;
  logger: SlackLogger;
  path?: string;
  now?: () => number;
  /** Told about every request Slack made (for liveness). */
  onRequest?: () => void;
  /** Told about every request refused for its signature. */
  onRejected?: (why: string) => void;
}

/**
 * Bolt's Events API transport on the bot's own HTTP server (Bolt's HTTPReceiver would open a second
 * server). Verifies the signature on the raw bytes, answers `url_verification`, and hands events to
 * Bolt with an ack that responds at once (Bolt acks events before running listeners).
 */
export class SlackHttpReceiver implements Receiver {
  #app: App | null = null;
  #registered = false;
  #accepting = false;

  constructor(private readonly opts: SlackHttpReceiverOptions) {}

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {
    if (!this.#registered) {
      this.opts.server.route("POST", this.opts.path ?? "/slack/events", (req, res) => this.#handle(req, res));
      this.#registered = true;
    }
    this.#accepting = true;
  }

  async stop(): Promise<void> {
    this.#accepting = false;
    if (this.#registered) this.opts.server.unroute("POST", this.opts.path ?? "/slack/events");
    this.#registered = false;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#accepting || !this.#app) {
      sendJson(res, 503, { error: "not accepting events" });
      return;
    }
    let raw: string;
    try {
      raw = (await readBody(req, 1024 * 1024)).toString("utf8");
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw err;
      return;
    }
    const why = checkSignature(
      this.opts.signingSecret,
      raw,
      header(req, "x-slack-request-timestamp"),
      header(req, "x-slack-signature"),
      (this.opts.now ?? Date.now)(),
    );
    if (why) {
      this.opts.onRejected?.(why);
      sendJson(res, 401, { error: "invalid signature" });
      return;
    }
    this.opts.onRequest?.();
    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, header(req, "content-type"));
    } catch {
      sendJson(res, 400, { error: "unreadable body" });
      return;
    }
    if (body.type === "url_verification") {
      sendJson(res, 200, { challenge: body.challenge });
      return;
    }
    if (body.ssl_check) {
      res.writeHead(200).end();
      return;
    }
    const ack = new HTTPResponseAck({
      logger: this.opts.logger,
      processBeforeResponse: false,
      httpRequest: req,
      httpRequestBody: body,
      httpResponse: res,
    });
    const retry = header(req, "x-slack-retry-num");
    const reason = header(req, "x-slack-retry-reason");
    try {
      await this.#app.processEvent({
        body,
        ack: ack.bind(),
        ...(retry ? { retryNum: Number(retry) } : {}),
        ...(reason ? { retryReason: reason } : {}),
      });
    } catch (err) {
      this.opts.logger.error(`slack event failed: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: "event failed" });
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(raw);
    const payload = form.get("payload");
    return payload ? (JSON.parse(payload) as Record<string, unknown>) : Object.fromEntries(form);
  }
  return JSON.parse(raw) as Record<string, unknown>;
}
