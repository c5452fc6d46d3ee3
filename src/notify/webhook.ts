import { Webhooks } from "@octokit/webhooks";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { errorLine } from "../core/one-line.ts";
import { BodyTooLargeError, type HttpServer, readBody, sendJson } from "../http/server.ts";
import type { Metrics } from "../metrics.ts";
import type { Store } from "../store/store.ts";
import type { Notifier } from "./notifier.ts";

const WEBHOOK_PATH = "/github/webhook";
/** How long a delivery id is remembered (GitHub redelivers within days at most when asked to). */
const DELIVERY_TTL_MS = 3 * 86_400_000;

export interface WebhookOptions {
  config: Config;
  store: Store;
  log: Logger;
  notifier: Notifier;
  metrics?: Metrics;
}

/** `owner/repo` of a GitHub Pages URL (https://jupyterhub.github.io/helm-chart/index.yaml → jupyterhub/helm-chart). */
function pagesRepo(url: string): string | null {
  const m = /^https?:\/\/([\w-]+)\.github\.io\/([\w.-]+)\//i.exec(url);
  return m ? `${m[1]}/${m[2]}`.toLowerCase() : null;
}

/**
 * `POST /github/webhook`: GitHub's events make the watchers look now instead of at their next poll
 * (polling stays the fallback). The signature (X-Hub-Signature-256) is verified with
 * `github.webhookSecret` by @octokit/webhooks: a bad or missing one is answered 401 and nothing
 * happens. Deliveries are deduplicated by X-GitHub-Delivery in the store (replicas share it).
 * `workflow_run` of the deploy repository polls the deploy runs; `push` to a chart's repository and
 * `page_build` of a chart repository or of the GitHub Pages site serving an index poll the index.
 */
export function registerWebhook(http: HttpServer, o: WebhookOptions): void {
  const secret = o.config.github.webhookSecret;
  const log = o.log.child({ component: "webhook" });
  const webhooks = secret ? new Webhooks({ secret }) : null;
  const deploy = o.config.deploy.github.toLowerCase();
  const chartRepos = new Set(
    o.config.charts.flatMap((c) => [c.github.toLowerCase(), pagesRepo(c.index)].filter((r): r is string => r !== null)),
  );
  const poll = (what: string, run: () => Promise<void>) =>
    void run().catch((e) => log.warn({ what, err: errorLine(e) }, "webhook-triggered poll failed"));

  webhooks?.on("workflow_run.completed", ({ payload }) => {
    if (payload.repository.full_name.toLowerCase() === deploy) poll("deploys", () => o.notifier.deploys.poll());
  });
  for (const event of ["push", "page_build"] as const) {
    webhooks?.on(event, ({ payload }) => {
      if (chartRepos.has(payload.repository.full_name.toLowerCase())) poll("index", () => o.notifier.index.poll());
    });
  }

  http.route("POST", WEBHOOK_PATH, async (req, res) => {
    if (!webhooks) return sendJson(res, 404, { error: "webhooks are off: set github.webhookSecret" });
    let body: string;
    try {
      body = (await readBody(req)).toString("utf8");
    } catch (e) {
      return sendJson(res, e instanceof BodyTooLargeError ? 413 : 400, { error: "unreadable body" });
    }
    const signature = String(req.headers["x-hub-signature-256"] ?? "");
    const id = String(req.headers["x-github-delivery"] ?? "");
    const name = String(req.headers["x-github-event"] ?? "");
    if (!signature || !(await webhooks.verify(body, signature).catch(() => false))) {
      o.metrics?.error("http", "signature");
      log.warn({ delivery: id, event: name }, "webhook refused: bad signature");
      return sendJson(res, 401, { error: "bad signature" });
    }
    if (!id || !name) return sendJson(res, 400, { error: "missing X-GitHub-Delivery or X-GitHub-Event" });
    if (!(await o.store.claim(`notify:webhook:${id}`, DELIVERY_TTL_MS))) {
      return sendJson(res, 200, { ok: true, duplicate: true });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: "body is not JSON" });
    }
    sendJson(res, 202, { ok: true });
    await webhooks
      .receive({ id, name, payload } as Parameters<typeof webhooks.receive>[0])
      .catch((e) => log.warn({ delivery: id, event: name, err: errorLine(e) }, "webhook handler failed"));
  });
}
