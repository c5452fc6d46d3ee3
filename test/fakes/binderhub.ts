import { EventEmitter } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A fake BinderHub on 127.0.0.1: `/health` (`{ ok, checks }`, 503 when not ok, as binderhub/health.py
 * answers) and the build API `GET /build/<provider>/<spec>` as an event stream (`data: {json}\n\n`
 * per event, `:keepalive` comments), following a script the test sets per spec:
 * events are sent in order; `{ stall: true }` keeps the stream open without events (keepalives only)
 * until the client goes away; `{ close: true }` ends the stream without a final phase.
 */

export type ScriptStep = { phase: string; message?: string; [k: string]: unknown } | { stall: true } | { close: true };

export interface FakeBinderHub {
  readonly url: string;
  /** Paths asked, in order (e.g. /health, /build/gh/willingc/ThinkDSP/HEAD). */
  readonly requests: string[];
  /** Emits "stalled" (spec) when a stream reaches a stall step, "gone" (spec) when its client disconnects. */
  readonly events: EventEmitter;
  setHealth(body: unknown, status?: number): void;
  /** The script for a spec such as `gh/willingc/ThinkDSP/HEAD`. */
  script(spec: string, steps: ScriptStep[]): void;
  close(): Promise<void>;
}

export const READY_SCRIPT: ScriptStep[] = [
  { phase: "waiting", message: "Waiting for build to start...\n" },
  { phase: "fetching", message: "Fetching repository...\n" },
  { phase: "building", message: "Step 1/10 : FROM buildpack-deps:jammy\n" },
  { phase: "building", message: "Step 2/10 : RUN pip install\n" },
  { phase: "pushing", message: "Pushing image\n" },
  { phase: "built", message: "Built image, launching...\n" },
  { phase: "launching", message: "Launching server...\n" },
  {
    phase: "ready",
    message: "server running at https://hub.example/user/x/\n",
    url: "https://hub.example/user/x/",
    token: "t0k3n",
  },
];

export async function startFakeBinderHub(): Promise<FakeBinderHub> {
  let health: { body: unknown; status: number } = {
    body: {
      ok: true,
      checks: [
        { service: "Docker registry", ok: true },
        { service: "JupyterHub API", ok: true },
        { service: "Pod quota", ok: true, total_pods: 3, quota: 100, _ignore_failure: true },
      ],
    },
    status: 200,
  };
  const scripts = new Map<string, ScriptStep[]>();
  const requests: string[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const open = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push(path);
    if (path === "/health") {
      res.writeHead(health.status, { "content-type": "application/json" }).end(JSON.stringify(health.body));
      return;
    }
    const m = /^\/build\/(.+)$/.exec(path);
    if (!m || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>404: Not Found</h1>");
      return;
    }
    const spec = decodeURIComponent(m[1]!);
    const steps = scripts.get(spec) ?? [
      { phase: "failed", message: `Could not resolve ref for ${spec}. Double check your URL.\n` },
    ];
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    open.add(res);
    res.on("close", () => {
      open.delete(res);
      events.emit("gone", spec);
    });
    for (const step of steps) {
      if ("stall" in step) {
        res.write(":keepalive\n\n");
        events.emit("stalled", spec);
        return; // stays open until the client leaves or the server closes
      }
      if ("close" in step) break;
      res.write(`data: ${JSON.stringify(step)}\n\n`);
    }
    res.end();
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    events,
    setHealth(body, status) {
      const ok = (body as { ok?: unknown })?.ok === true;
      health = { body, status: status ?? (ok ? 200 : 503) };
    },
    script(spec, steps) {
      scripts.set(spec, steps);
    },
    close() {
      for (const r of open) r.destroy();
      for (const s of sockets) s.destroy();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
