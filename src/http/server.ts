import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { AdapterStatus } from "../core/adapter.ts";
import { errorLine } from "../core/one-line.ts";
import type { Metrics } from "../metrics.ts";

/** A route handler. It owns the response; read the raw body with `readBody` (webhook signatures need the bytes). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServerOptions {
  port: number;
  host?: string;
  log?: Logger;
  /** Served on /metrics when given. */
  metrics?: Metrics;
  /** A request's headers and body must arrive within this long (default 10 s), or it gets 408 and is closed. */
  requestTimeoutMs?: number;
  /** Connections open at once (default 256); more are closed as they arrive. */
  maxConnections?: number;
}

/** Thrown by `readBody` when a body is larger than allowed. */
export class BodyTooLargeError extends Error {}

/**
 * Reads a request body as bytes, refusing more than `limit` bytes (default 1 MiB): at once when the
 * declared Content-Length is larger, before a byte of the body is read.
 */
export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes; at most ${limit}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        // Stop collecting; the rest is drained and discarded while the 413 is sent.
        if (size - c.length <= limit) reject(new BodyTooLargeError(`request body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Sends a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The bot's one HTTP server: /healthz (the process runs), /readyz (every enabled adapter connected),
 * /metrics (Prometheus), and whatever other modules register with `route` (Slack events in http
 * mode, GitHub webhooks). Off when the port is 0 — `run` does not construct it then.
 */
export class HttpServer {
  readonly #routes = new Map<string, RouteHandler>();
  readonly #checks = new Map<string, () => AdapterStatus>();
  readonly #opts: HttpServerOptions;
  #server: Server | null = null;

  constructor(opts: HttpServerOptions) {
    this.#opts = opts;
    this.route("GET", "/healthz", (_req, res) => sendText(res, 200, "ok\n"));
    this.route("GET", "/readyz", (_req, res) => {
      const r = this.readiness();
      sendJson(res, r.ready ? 200 : 503, r);
    });
    if (opts.metrics) {
      const m = opts.metrics;
      this.route("GET", "/metrics", async (_req, res) => {
        const { contentType, body } = await m.expose();
        sendText(res, 200, body, contentType);
      });
    }
  }

  /**
   * Registers a handler for an exact path (no query string). One handler per method and path:
   * registering twice is an error, so a module cannot silently shadow another's endpoint.
   */
  route(method: string, path: string, handler: RouteHandler): this {
    const key = `${method.toUpperCase()} ${path}`;
    if (this.#routes.has(key)) throw new Error(`HTTP route ${key} is already registered`);
    this.#routes.set(key, handler);
    return this;
  }

  /** Removes a route (a module that stops gives its endpoint back). True when one was registered. */
  unroute(method: string, path: string): boolean {
    return this.#routes.delete(`${method.toUpperCase()} ${path}`);
  }

  /** Adds an adapter (or anything else) whose `connected` must be true for /readyz to say ready. */
  addReadiness(name: string, status: () => AdapterStatus): this {
    this.#checks.set(name, status);
    return this;
  }

  /** What /readyz answers: ready when every registered check is connected (and there is at least none failing). */
  readiness(): { ready: boolean; adapters: Record<string, AdapterStatus> } {
    const adapters: Record<string, AdapterStatus> = {};
    let ready = true;
    for (const [name, check] of this.#checks) {
      let s: AdapterStatus;
      try {
        s = check();
      } catch (err) {
        s = { connected: false, detail: `status failed: ${errorLine(err)}` };
      }
      adapters[name] = s;
      if (!s.connected) ready = false;
    }
    return { ready, adapters };
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = (req.method ?? "GET").toUpperCase();
    const handler = this.#routes.get(`${method} ${path}`) ?? (method === "HEAD" ? this.#routes.get(`GET ${path}`) : undefined);
    if (!handler) {
      const allowed = [...this.#routes.keys()].filter((k) => k.endsWith(` ${path}`)).map((k) => k.split(" ")[0]);
      if (allowed.length) {
        res.setHeader("allow", allowed.join(", "));
        sendText(res, 405, "method not allowed\n");
      } else sendText(res, 404, "not found\n");
      return;
    }
    try {
      await handler(req, res);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader("connection", "close");
        if (!res.headersSent) sendText(res, 413, "request body too large\n");
        return;
      }
      this.#opts.log?.error({ err, path }, "http handler failed");
      this.#opts.metrics?.error("http", "handler");
      if (!res.headersSent) sendText(res, 500, "internal error\n");
      else res.end();
    }
  }

  /** Starts listening; resolves with the actual port (useful with port 0 in tests). */
  async start(): Promise<number> {
    // A slow client must not hold a connection: headers and body within requestTimeoutMs (checked
    // often enough to matter), and a bounded number of connections at once.
    const timeout = this.#opts.requestTimeoutMs ?? 10_000;
    const server = createServer(
      {
        requestTimeout: timeout,
        headersTimeout: timeout,
        connectionsCheckingInterval: Math.min(1000, Math.max(10, timeout / 4)),
      },
      (req, res) => void this.#dispatch(req, res),
    );
    server.maxConnections = this.#opts.maxConnections ?? 256;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#opts.port, this.#opts.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    this.#opts.log?.info({ port, host: this.#opts.host ?? "0.0.0.0" }, "http server listening");
    return port;
  }

  /** The port it listens on; 0 before start. */
  get port(): number {
    const a = this.#server?.address();
    return a && typeof a === "object" ? a.port : 0;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
