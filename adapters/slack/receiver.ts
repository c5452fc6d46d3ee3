import type { IncomingMessage, ServerResponse } from "node:http";
import type { App, Receiver, Logger as SlackLogger } from "@slack/bolt";
import { HTTPResponseAck, verifySlackRequest } from "@slack/bolt";
import { errorLine } from "../../src/core/one-line.ts";
import { BodyTooLargeError, type HttpServer, readBody, sendJson } from "../../src/http/server.ts";

/** Slack refuses requests older than five minutes; so do we, and (clocks drift) as far in the future. */
const MAX_SKEW_S = 5 * 60;

/**
 * Checks Slack's request signature with Bolt's own `verifySlackRequest` (`v0=` HMAC-SHA256 of
 * `v0:{timestamp}:{raw body}` with the signing secret, compared in constant time, a timestamp at
 * most five minutes old), and refuses a timestamp more than five minutes ahead too, which Bolt
 * lets through. Returns why the request is bad, or null.
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
  if (ts - Math.floor(nowMs / 1000) > MAX_SKEW_S) return "stale timestamp";
  try {
    verifySlackRequest({
      signingSecret,
      body: rawBody,
      headers: { "x-slack-signature": signatureHeader, "x-slack-request-timestamp": ts },
      nowMilliseconds: nowMs,
    });
    return null;
  } catch (err) {
    const why = errorLine(err);
    if (/stale/.test(why)) return "stale timestamp";
    if (/version/.test(why)) return "unknown signature version";
    return "signature mismatch";
  }
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
    // Signed does not mean well-formed: `null`, an array, or an event callback without an event object.
    if (!isObject(body) || (body.type === "event_callback" && !isObject(body.event))) {
      sendJson(res, 400, { error: "not a Slack request body" });
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
      this.opts.logger.error(`slack event failed: ${errorLine(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: "event failed" });
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
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
