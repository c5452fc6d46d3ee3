import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake Travis CI API v3 on 127.0.0.1, speaking the real protocol: it answers only requests that
 * carry `Travis-API-Version: 3`, serves builds, jobs and `GET /job/{id}/log.txt` (redirecting to a
 * signed "archive" URL, as archived logs do, which refuses requests carrying the API token), honours
 * `Range: bytes=-N` when asked to, and records restarts.
 */
export interface FakeTravisJob {
  id: number;
  number?: string;
  state: "passed" | "failed" | "errored" | "canceled" | "started";
  name?: string;
  /** The log; null = expired (404). */
  log: string | Buffer | null;
}

export interface FakeTravisBuild {
  id: number;
  number: string;
  state: "passed" | "failed" | "errored" | "canceled" | "started";
  branch: string;
  sha: string;
  eventType?: "push" | "pull_request" | "api" | "cron";
  pr?: number;
  startedAt: string;
  jobs: FakeTravisJob[];
}

export interface FakeTravisOptions {
  slug: string;
  /** Token that POST restarts require (`Authorization: token …`). */
  token?: string;
  /** Honour `Range: bytes=-N` on logs (archive storage does; set false to test streaming). */
  range?: boolean;
  /** Serve logs through a redirect to a signed archive URL (default true). */
  redirectLogs?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

export class FakeTravis {
  readonly builds: FakeTravisBuild[] = [];
  readonly requests: SeenRequest[] = [];
  readonly restarts: string[] = [];
  /** Answer every API request with this status (simulate an outage); null = normal. */
  failWith: number | null = null;
  /** Answer restarts with this status (403: a token without push access, 429: rate limited); null = accept. */
  failRestartWith: number | null = null;
  /** Bytes of log bodies actually sent (to prove the client read only the tail). */
  logBytesSent = 0;
  #server: Server | null = null;
  #url = "";

  constructor(readonly opts: FakeTravisOptions) {}

  get url(): string {
    return this.#url;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((ok) => this.#server?.listen(0, "127.0.0.1", ok));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((ok) => s.close(() => ok()));
    this.#server = null;
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  #error(res: ServerResponse, status: number, type: string, message: string): void {
    this.#json(res, status, { "@type": "error", error_type: type, error_message: message });
  }

  #build(b: FakeTravisBuild): Record<string, unknown> {
    return {
      "@type": "build",
      "@href": `/build/${b.id}`,
      "@representation": "standard",
      id: b.id,
      number: b.number,
      state: b.state,
      event_type: b.eventType ?? "push",
      pull_request_number: b.pr ?? null,
      started_at: b.startedAt,
      finished_at: b.startedAt,
      repository: { "@type": "repository", id: 1, name: this.opts.slug.split("/")[1], slug: this.opts.slug },
      branch: { "@type": "branch", name: b.branch },
      commit: { "@type": "commit", sha: b.sha, message: "…" },
      jobs: b.jobs.map((j) => ({ "@type": "job", "@href": `/job/${j.id}`, "@representation": "minimal", id: j.id })),
    };
  }

  #job(b: FakeTravisBuild, j: FakeTravisJob): Record<string, unknown> {
    return {
      "@type": "job",
      "@href": `/job/${j.id}`,
      "@representation": "standard",
      id: j.id,
      number: j.number ?? `${b.number}.1`,
      state: j.state,
      stage: null,
      config: j.name ? { name: j.name } : {},
      build: { "@type": "build", "@representation": "minimal", id: b.id, number: b.number },
    };
  }

  #findJob(id: number): [FakeTravisBuild, FakeTravisJob] | null {
    for (const b of this.builds) for (const j of b.jobs) if (j.id === id) return [b, j];
    return null;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? "/", "http://x");
    this.requests.push({ method: req.method ?? "GET", path: u.pathname + u.search, headers: req.headers });

    // The signed archive storage: no API version needed, and it must never see the API token.
    const archive = /^\/archive\/(\d+)$/.exec(u.pathname);
    if (archive) {
      if (req.headers.authorization) return this.#error(res, 400, "leak", "the archive must not receive the API token");
      if (u.searchParams.get("sig") !== `sig-${archive[1]}`) return this.#error(res, 403, "signature", "bad signature");
      return this.#sendLog(req, res, Number(archive[1]));
    }

    if (req.headers["travis-api-version"] !== "3") {
      return this.#error(res, 400, "wrong_api_version", "this fake speaks only Travis-API-Version: 3");
    }
    if (this.failWith !== null) return this.#error(res, this.failWith, "server_error", "fake outage");

    const slug = encodeURIComponent(this.opts.slug);
    const route = (method: string, re: RegExp): RegExpExecArray | null => (req.method === method ? re.exec(u.pathname) : null);
    let m = route("GET", /^\/repo\/([^/]+)\/builds$/);
    if (m) {
      if (m[1] !== slug && decodeURIComponent(m[1] as string) !== this.opts.slug)
        return this.#error(res, 404, "not_found", "repository not found (or insufficient access)");
      let list = [...this.builds];
      const branch = u.searchParams.get("branch.name");
      if (branch) list = list.filter((b) => b.branch === branch);
      const events = u.searchParams.get("event_type");
      if (events) {
        const allowed = events.split(",");
        list = list.filter((b) => allowed.includes(b.eventType ?? "push"));
      }
      list.sort((a, b) => b.id - a.id);
      const limit = Number(u.searchParams.get("limit") ?? "25");
      return this.#json(res, 200, { "@type": "builds", builds: list.slice(0, limit).map((b) => this.#build(b)) });
    }
    m = route("GET", /^\/build\/(\d+)$/);
    if (m) {
      const id = Number(m[1]);
      const b = this.builds.find((x) => x.id === id);
      if (!b) return this.#error(res, 404, "not_found", "build not found (or insufficient access)");
      return this.#json(res, 200, this.#build(b));
    }
    m = route("GET", /^\/build\/(\d+)\/jobs$/);
    if (m) {
      const id = Number(m[1]);
      const b = this.builds.find((x) => x.id === id);
      if (!b) return this.#error(res, 404, "not_found", "build not found (or insufficient access)");
      return this.#json(res, 200, { "@type": "jobs", jobs: b.jobs.map((j) => this.#job(b, j)) });
    }
    m = route("GET", /^\/job\/(\d+)$/);
    if (m) {
      const found = this.#findJob(Number(m[1]));
      if (!found) return this.#error(res, 404, "not_found", "job not found (or insufficient access)");
      return this.#json(res, 200, this.#job(found[0], found[1]));
    }
    m = route("GET", /^\/job\/(\d+)\/log\.txt$/);
    if (m) {
      const id = Number(m[1]);
      const found = this.#findJob(id);
      if (!found || found[1].log === null) return this.#error(res, 404, "not_found", "log not found");
      if (this.opts.redirectLogs === false) return this.#sendLog(req, res, id);
      res.writeHead(302, { location: `${this.#url}/archive/${id}?sig=sig-${id}` });
      res.end();
      return;
    }
    m = route("POST", /^\/(build|job)\/(\d+)\/restart$/);
    if (m) {
      if (this.opts.token && req.headers.authorization !== `token ${this.opts.token}`)
        return this.#error(res, 403, "login_required", "login required");
      if (this.failRestartWith !== null)
        return this.#error(
          res,
          this.failRestartWith,
          this.failRestartWith === 429 ? "rate_limited" : "insufficient_access",
          "refused",
        );
      this.restarts.push(`${m[1]}:${m[2]}`);
      // As Travis: the restarted build (or the build of the restarted job) is running again.
      const id = Number(m[2]);
      const found = m[1] === "build" ? this.builds.find((b) => b.id === id) : this.#findJob(id)?.[0];
      if (found) {
        found.state = "started";
        for (const j of found.jobs) if (m[1] === "build" || j.id === id) j.state = "started";
      }
      return this.#json(res, 202, { "@type": "pending", [m[1] as string]: { id: Number(m[2]) }, state_change: "restart" });
    }
    return this.#error(res, 404, "not_found", "resource not found");
  }

  #sendLog(req: IncomingMessage, res: ServerResponse, id: number): void {
    const found = this.#findJob(id);
    if (!found || found[1].log === null) {
      this.#error(res, 404, "not_found", "log not found");
      return;
    }
    const body = Buffer.isBuffer(found[1].log) ? found[1].log : Buffer.from(found[1].log, "utf8");
    const range = /^bytes=-(\d+)$/.exec(String(req.headers.range ?? ""));
    if (this.opts.range !== false && range) {
      if (body.length === 0) {
        res.writeHead(416, { "content-range": "bytes */0" });
        res.end();
        return;
      }
      const n = Math.min(Number(range[1]), body.length);
      const start = body.length - n;
      const part = body.subarray(start);
      this.logBytesSent += part.length;
      res.writeHead(206, {
        "content-type": "text/plain",
        "content-range": `bytes ${start}-${body.length - 1}/${body.length}`,
        "content-length": part.length,
      });
      res.end(part);
      return;
    }
    this.logBytesSent += body.length;
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  }
}
