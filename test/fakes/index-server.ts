import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A Helm repository on 127.0.0.1 serving one `index.yaml`, the way GitHub Pages does: a strong ETag,
 * Last-Modified, and a real 304 for If-None-Match / If-Modified-Since.
 */
export interface IndexServer {
  /** Full URL of the index, e.g. http://127.0.0.1:12345/index.yaml */
  readonly url: string;
  /** Requests for the index so far (including failed and 304 ones). */
  readonly requests: number;
  /** How many of them were answered 304. */
  readonly notModified: number;
  /** How many were answered 200 with a body. */
  readonly served: number;
  /** Replaces the body; the ETag and Last-Modified change with it. */
  setBody(s: string): void;
  /** The next request gets this status (with an error body) or has its connection destroyed. */
  failNext(status: number | "close", times?: number): void;
  /** Headers of the last request (to check conditional headers). */
  readonly lastHeaders: IncomingMessage["headers"] | null;
  close(): Promise<void>;
}

export async function startIndexServer(opts: { body: string | (() => string); path?: string }): Promise<IndexServer> {
  const path = opts.path ?? "/index.yaml";
  let staticBody: string | null = typeof opts.body === "string" ? opts.body : null;
  const dynamic = typeof opts.body === "function" ? opts.body : null;
  let version = { body: "", etag: "", lastModified: "" };
  // Last-Modified has one-second resolution; make each new body at least a second newer so a
  // client relying on If-Modified-Since alone still sees every change.
  let clock = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const current = () => {
    const body = dynamic ? dynamic() : (staticBody ?? "");
    if (body !== version.body || !version.etag) {
      clock += 1000;
      version = {
        body,
        etag: `"${createHash("sha1").update(body).digest("hex").slice(0, 16)}"`,
        lastModified: new Date(clock).toUTCString(),
      };
    }
    return version;
  };
  current();

  const failures: (number | "close")[] = [];
  let requests = 0;
  let notModified = 0;
  let served = 0;
  let lastHeaders: IncomingMessage["headers"] | null = null;
  const sockets = new Set<import("node:net").Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    requests++;
    lastHeaders = req.headers;
    const fail = failures.shift();
    if (fail === "close") {
      req.socket.destroy();
      return;
    }
    if (fail !== undefined) {
      res.writeHead(fail, { "content-type": "text/html" }).end(`<h1>${fail}</h1>\n`);
      return;
    }
    const v = current();
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    const headers = { etag: v.etag, "last-modified": v.lastModified, "cache-control": "max-age=600" };
    const etagMatches = inm?.split(",").some((t) => t.trim().replace(/^W\//, "") === v.etag);
    const notModifiedSince = inm === undefined && ims !== undefined && Date.parse(ims) >= Date.parse(v.lastModified);
    if (etagMatches || notModifiedSince) {
      notModified++;
      res.writeHead(304, headers).end();
      return;
    }
    served++;
    res.writeHead(200, { ...headers, "content-type": "application/octet-stream", "content-length": Buffer.byteLength(v.body) });
    res.end(req.method === "HEAD" ? undefined : v.body);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    get requests() {
      return requests;
    },
    get notModified() {
      return notModified;
    },
    get served() {
      return served;
    },
    get lastHeaders() {
      return lastHeaders;
    },
    setBody(s: string) {
      staticBody = s;
      current();
    },
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

export interface FakeChartEntry {
  version: string;
  created?: string;
  digest?: string;
  /** Defaults to https://example.org/charts/<chart>-<version>.tgz */
  urls?: string[];
}

/**
 * An index.yaml in the layout Helm writes (sigs.k8s.io/yaml: sorted keys, 2-space indent,
 * sequences not indented, quoted timestamps, a folded description and nested lists), so that the
 * parser in src/charts/index/parse.ts is exercised on the real shape.
 */
export function indexYaml(charts: Record<string, FakeChartEntry[]>, generated = "2024-10-24T11:45:31.263782848Z"): string {
  const out: string[] = ["apiVersion: v1", "entries:"];
  for (const chart of Object.keys(charts).sort()) {
    out.push(`  ${chart}:`);
    for (const e of charts[chart]!) {
      const created = e.created ?? generated;
      const digest = e.digest ?? createHash("sha256").update(`${chart}-${e.version}`).digest("hex");
      const urls = e.urls ?? [`https://example.org/charts/${chart}-${e.version}.tgz`];
      out.push(
        "  - apiVersion: v2",
        `    appVersion: ${e.version.startsWith("1") ? `"${e.version}"` : e.version}`,
        `    created: "${created}"`,
        "    dependencies:",
        "    - name: jupyterhub",
        "      repository: https://jupyterhub.github.io/helm-chart",
        "      version: 3.3.7",
        `    description: ${chart} is a chart used in tests. A BinderHub is by default not configured`,
        "      to authenticate users or provide storage for them - version 9.9.9",
        `    digest: ${digest}`,
        "    keywords:",
        "    - jupyter",
        "    - version",
        "    maintainers:",
        "    - email: someone@example.org",
        "      name: Someone",
        `    name: ${chart}`,
        "    urls:",
        ...urls.map((u) => `    - ${u}`),
        `    version: ${e.version}`,
      );
    }
  }
  out.push(`generated: "${generated}"`, "");
  return out.join("\n");
}

/**
 * `body` (an index as Helm writes it, e.g. the real one) with `entries` of `chart` added first under its
 * existing key, written as indexYaml writes them.
 */
export function withEntries(body: string, chart: string, entries: FakeChartEntry[]): string {
  const key = `  ${chart}:\n`;
  if (!body.includes(key)) throw new Error(`the index has no ${chart} entries to add to`);
  const one = indexYaml({ [chart]: entries });
  const lines = one.slice(one.indexOf(key) + key.length, one.indexOf("generated:"));
  return body.replace(key, `${key}${lines}`);
}
