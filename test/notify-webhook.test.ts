import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { HttpServer } from "../src/http/server.ts";
import { Metrics } from "../src/metrics.ts";
import { registerWebhook } from "../src/notify/webhook.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml, testApp } from "./helpers/app.ts";
import { TestRepo } from "./helpers/git.ts";
import { silentLogger } from "./helpers/log.ts";
import { prRepo } from "./helpers/notify.ts";

const SECRET = "hook-secret-123";

/** POST /github/webhook as GitHub sends it: JSON, X-GitHub-Event/Delivery and an HMAC-SHA256 signature. */
function deliver(url: string, event: string, payload: unknown, opts: { id?: string; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const sig = `sha256=${createHmac("sha256", opts.secret ?? SECRET)
    .update(body)
    .digest("hex")}`;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": opts.id ?? crypto.randomUUID(),
      "x-hub-signature-256": sig,
    },
    body,
  });
}

describe("GitHub webhooks make the watchers look now", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let github: FakeGitHub;
  let http: HttpServer;
  let app: App;
  let url: string;
  let dataDir: string;
  let t: ReturnType<typeof prRepo>;
  const said: string[] = [];
  const metrics = new Metrics();

  beforeAll(async () => {
    repo = TestRepo.create();
    t = prRepo(repo);
    index = await startIndexServer({ body: indexYaml({ binderhub: [t.existing] }) });
    github = await startFakeGitHub();
    dataDir = mkdtempSync(join(tmpdir(), "bb-notify-hook-"));
    const extra = [
      "notify:",
      '  rooms: { "test:ops": [charts, deploys] }',
      '  schedules: { index: "", deploys: "", behind: "" }',
      "",
    ].join("\n");
    app = await testApp(
      `${chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: index.url }).replace(
        `github: { apiUrl: ${github.url} }`,
        `github: { apiUrl: ${github.url}, webhookSecret: ${SECRET} }`,
      )}${extra}`,
    );
    await app.services.notify.outbox.start(async (_to, reply) => {
      said.push(renderPlain(reply));
    });
    await app.services.notify.index.poll(); // records what the index has
    http = new HttpServer({ port: 0, host: "127.0.0.1", log: silentLogger(), metrics });
    registerWebhook(http, { ...app.services, notifier: app.services.notify, metrics });
    const port = await http.start();
    url = `http://127.0.0.1:${port}/github/webhook`;
  });
  afterAll(async () => {
    await http.stop();
    await app.close();
    await index.close();
    await github.close();
    rmSync(dataDir, { recursive: true, force: true });
    repo.remove();
  });

  it("a bad signature is answered 401 and nothing is looked at or posted", async () => {
    index.setBody(indexYaml({ binderhub: [t.existing, { version: t.published }] }));
    const before = index.requests;
    const r = await deliver(url, "push", { repository: { full_name: "jupyterhub/binderhub" } }, { secret: "wrong" });
    expect(r.status).toBe(401);
    const unsigned = await fetch(url, { method: "POST", headers: { "x-github-event": "push" }, body: "{}" });
    expect(unsigned.status).toBe(401);
    expect(index.requests).toBe(before);
    expect(said).toEqual([]);
  });

  it("a push to the chart repository polls the index now: the new version is announced once, a redelivery is ignored", async () => {
    const id = crypto.randomUUID();
    const payload = { ref: "refs/heads/main", repository: { full_name: "jupyterhub/binderhub" } };
    expect((await deliver(url, "push", payload, { id })).status).toBe(202);
    await vi.waitFor(() => expect(said).toHaveLength(1), { timeout: 20_000, interval: 20 });
    expect(said[0]).toContain(`${t.published} is published (PR #1887`);
    const before = index.requests;
    const again = await deliver(url, "push", payload, { id });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(index.requests).toBe(before);
    expect(said).toHaveLength(1);
  });

  it("workflow_run completed on the deploy repository polls the deploy runs", async () => {
    const old = github.addRun("jupyterhub/mybinder.org-deploy", { conclusion: "success", run_number: 76 });
    github.addJob(old.id, { name: "deploy", conclusion: "success", log: "ok\n" });
    await app.services.notify.deploys.poll(); // records the runs there are
    const n = said.length;
    const run = github.addRun("jupyterhub/mybinder.org-deploy", { conclusion: "success", run_number: 77 });
    github.addJob(run.id, { name: "deploy", conclusion: "success", log: "ok\n" });
    const payload = {
      action: "completed",
      workflow_run: { id: run.id },
      repository: { full_name: "jupyterhub/mybinder.org-deploy" },
    };
    expect((await deliver(url, "workflow_run", payload)).status).toBe(202);
    await vi.waitFor(() => expect(said).toHaveLength(n + 1), { timeout: 20_000, interval: 20 });
    expect(said[n]).toMatch(/deploy run #77 \(\S+\) succeeded\./);
  });
});
