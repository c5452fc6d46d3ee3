import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { AdapterStatus } from "../src/core/adapter.ts";
import { ok, para } from "../src/core/reply.ts";
import { HttpServer, readBody, sendJson } from "../src/http/server.ts";
import { countingHandler, Metrics, timeSource } from "../src/metrics.ts";

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(opts: Partial<ConstructorParameters<typeof HttpServer>[0]> = {}) {
  const s = new HttpServer({ port: 0, host: "127.0.0.1", ...opts });
  servers.push(s);
  const port = await s.start();
  return { s, base: `http://127.0.0.1:${port}` };
}

describe("HttpServer", () => {
  it("/healthz answers 200 while the process runs", async () => {
    const { base } = await serve();
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("ok\n");
  });

  it("/readyz is 200 only when every adapter is connected, with each state in the body", async () => {
    const { s, base } = await serve();
    let slack: AdapterStatus = { connected: false, detail: "connecting" };
    s.addReadiness("slack", () => slack);
    s.addReadiness("matrix", () => ({ connected: true, lastActivity: 5 }));
    let r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({
      ready: false,
      adapters: { slack: { connected: false, detail: "connecting" }, matrix: { connected: true, lastActivity: 5 } },
    });
    slack = { connected: true };
    r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { ready: boolean }).ready).toBe(true);
  });

  it("/readyz treats a status() that throws as not connected", async () => {
    const { s, base } = await serve();
    s.addReadiness("x", () => {
      throw new Error("boom");
    });
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { adapters: Record<string, unknown> }).adapters.x).toEqual({
      connected: false,
      detail: "status failed: boom",
    });
  });

  it("/metrics serves Prometheus text with the bot's counters, gauge and histogram", async () => {
    const m = new Metrics();
    const { base } = await serve({ metrics: m });
    const handler = countingHandler(async (msg) => (msg.text === "hi" ? { ...ok([para("x")]), command: "help" } : null), m);
    await handler({ platform: "slack", room: "C1", userId: "U1", text: "hi", eventId: "1" });
    await handler({ platform: "slack", room: "C1", userId: "U1", text: "chatter", eventId: "2" });
    const crash = countingHandler(async () => {
      throw new Error("bad");
    }, m);
    await expect(crash({ platform: "matrix", room: "!r", userId: "@a:b", text: "x", eventId: "3" })).rejects.toThrow("bad");
    m.outboxSize.set(3);
    await timeSource("github", async () => 1, m);
    await expect(timeSource("git", async () => Promise.reject(new Error("no")), m)).rejects.toThrow("no");

    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toContain('binderbot_messages_total{platform="slack"} 2');
    expect(text).toContain('binderbot_messages_total{platform="matrix"} 1');
    expect(text).toContain('binderbot_commands_total{platform="slack",command="help",outcome="ok"} 1');
    expect(text).toContain('binderbot_errors_total{platform="matrix",kind="handler"} 1');
    expect(text).toContain("binderbot_notification_outbox_size 3");
    expect(text).toContain('binderbot_source_latency_seconds_count{source="github"} 1');
    expect(text).toContain('binderbot_source_latency_seconds_count{source="git"} 1');
  });

  it("registered routes get the raw body; unknown paths 404, wrong methods 405", async () => {
    const { s, base } = await serve();
    s.route("POST", "/webhooks/github", async (req, res) => {
      const body = await readBody(req);
      sendJson(res, 202, { got: body.toString("utf8"), sig: req.headers["x-hub-signature-256"] });
    });
    const r = await fetch(`${base}/webhooks/github?x=1`, {
      method: "POST",
      body: '{"a": 1}',
      headers: { "x-hub-signature-256": "sha256=ab" },
    });
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ got: '{"a": 1}', sig: "sha256=ab" });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const wrong = await fetch(`${base}/webhooks/github`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(() => s.route("post", "/webhooks/github", () => {})).toThrow(/already registered/);
    expect(s.unroute("POST", "/webhooks/github")).toBe(true);
    expect((await fetch(`${base}/webhooks/github`, { method: "POST" })).status).toBe(404);
  });

  it("a body over the limit gets 413; a handler that throws gets 500 and the server keeps serving", async () => {
    const m = new Metrics();
    const { s, base } = await serve({ metrics: m });
    s.route("POST", "/small", async (req, res) => {
      await readBody(req, 10);
      res.end("fine");
    });
    s.route("GET", "/crash", () => {
      throw new Error("handler bug");
    });
    expect((await fetch(`${base}/small`, { method: "POST", body: "x".repeat(5) })).status).toBe(200);
    expect((await fetch(`${base}/small`, { method: "POST", body: "x".repeat(100) })).status).toBe(413);
    expect((await fetch(`${base}/crash`)).status).toBe(500);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('binderbot_errors_total{platform="http",kind="handler"} 1');
  });
});

/** A raw TCP client: what a slow or hostile HTTP client does, byte by byte. */
async function raw(base: string): Promise<{ sock: Socket; text: () => string; closed: Promise<unknown> }> {
  const u = new URL(base);
  const sock = connect(Number(u.port), u.hostname);
  let got = "";
  sock.setEncoding("utf8").on("data", (d: string) => {
    got += d;
  });
  const closed = once(sock, "close");
  await once(sock, "connect");
  return { sock, text: () => got, closed };
}

describe("HttpServer limits", () => {
  it("a declared Content-Length over the limit gets 413 at once, before any of the body is sent", async () => {
    const { s, base } = await serve();
    s.route("POST", "/hook", async (req, res) => {
      await readBody(req, 1000);
      sendJson(res, 200, { ok: true });
    });
    const c = await raw(base);
    c.sock.write("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n");
    await c.closed; // the server answers and closes without waiting for 50 MB
    expect(c.text()).toMatch(/^HTTP\/1\.1 413 /);
  });

  it("a request whose headers or body never finish is cut off (408) after requestTimeoutMs (10 s by default)", async () => {
    const { base } = await serve({ requestTimeoutMs: 300 });
    const slowHeaders = await raw(base);
    slowHeaders.sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\n"); // never ends its headers
    const { s } = await serve({ requestTimeoutMs: 300 });
    s.route("POST", "/hook", async (req, res) => {
      await readBody(req);
      sendJson(res, 200, { ok: true });
    });
    const slowBody = await raw(`http://127.0.0.1:${s.port}`);
    slowBody.sock.write("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
    await Promise.all([slowHeaders.closed, slowBody.closed]);
    expect(slowHeaders.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slowBody.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("holds a bounded number of connections: one over the limit is closed at once, the others are served", async () => {
    const { base } = await serve({ maxConnections: 2 });
    const a = await raw(base);
    const b = await raw(base);
    const c = await raw(base);
    await c.closed;
    expect(c.text()).toBe("");
    a.sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await a.closed;
    expect(a.text()).toMatch(/^HTTP\/1\.1 200 /);
    b.sock.destroy();
  });
});
