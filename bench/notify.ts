/**
 * Notifications (issue #11): publish → message with the index polled every second, webhook →
 * message, and the idle cost of polling an unchanged index (requests, 304s, CPU seconds).
 *
 *   npx tsx bench/notify.ts            (results go into docs/benchmarks.md, "## Notifications")
 *
 * In process: the real notifier (node-cron schedule, outbox on the memory store, the PR looked up in
 * a local git repository), the Helm repository fake serving the real 1.75 MB index when
 * ../shared/data has it (else a small one), and the webhook endpoint on the bot's HTTP server.
 */
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import { HttpServer } from "../src/http/server.ts";
import { Metrics } from "../src/metrics.ts";
import { registerWebhook } from "../src/notify/webhook.ts";
import { openStore } from "../src/store/store.ts";
import { startFakeGitHub } from "../test/fakes/github.ts";
import { indexYaml, startIndexServer, withEntries } from "../test/fakes/index-server.ts";
import { TestRepo } from "../test/helpers/git.ts";
import { silentLogger } from "../test/helpers/log.ts";
import { prRepo } from "../test/helpers/notify.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const REAL = path.resolve(here, "../../shared/data/helm-chart-index-2024-10-24.yaml");
const ROUNDS = 5;
const IDLE_POLLS = 200;

const repo = TestRepo.create();
const t = prRepo(repo);
const base = existsSync(REAL) ? readFileSync(REAL, "utf8") : indexYaml({ binderhub: [t.existing] });
/** `body` with one more binderhub entry (its lines as Helm writes them, under the existing key). */
const withEntry = (body: string, version: string) =>
  withEntries(body, "binderhub", [{ version, created: new Date().toISOString() }]);
let body = base.includes("  binderhub:\n") ? base : indexYaml({ binderhub: [t.existing] });
const index = await startIndexServer({ body });
const github = await startFakeGitHub();
const dataDir = mkdtempSync(path.join(tmpdir(), "bb-bench-notify-"));
const yaml = `store: memory
dataDir: ${dataDir}
mirrors: { fetchCron: "" }
github: { apiUrl: ${github.url}, webhookSecret: s3cret }
charts:
  - { name: binderhub, github: jupyterhub/binderhub, git: ${repo.path}, index: ${index.url} }
deploy: { github: jupyterhub/mybinder.org-deploy }
notify:
  rooms: { "bench:room": [charts] }
  schedules: { index: "* * * * * *", deploys: "", behind: "" }
`;
const app = await createApp(parseConfig(yaml, "bench.yaml", {}), { log: silentLogger(), store: await openStore("memory", ".") });
let onSend: ((text: string) => void) | null = null;
await app.services.notify.start(async (_to, reply) => {
  onSend?.(JSON.stringify(reply.blocks));
});
await app.services.notify.index.poll(); // the first poll records the real index
const http = new HttpServer({ port: 0, host: "127.0.0.1", log: silentLogger(), metrics: new Metrics() });
registerWebhook(http, { ...app.services, notifier: app.services.notify });
const port = await http.start();

/** ms from `act()` to the message naming `version`. */
async function timeToMessage(version: string, act: () => void | Promise<void>): Promise<number> {
  const said = new Promise<number>((resolve) => {
    onSend = (text) => {
      if (text.includes(version)) resolve(performance.now());
    };
  });
  const t0 = performance.now();
  await act();
  return (await said) - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let n = 100;
const nextVersion = () => `1.0.0-0.dev.git.${n++}.h${t.pr.slice(0, 8)}`;

const polled: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const v = nextVersion();
  body = withEntry(body, v);
  polled.push(await timeToMessage(v, () => index.setBody(body)));
}
await app.services.notify.stop(); // the webhook alone from here
await app.services.notify.outbox.start(async (_to, reply) => {
  onSend?.(JSON.stringify(reply.blocks));
});
const hooked: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const v = nextVersion();
  body = withEntry(body, v);
  hooked.push(
    await timeToMessage(v, async () => {
      index.setBody(body);
      const payload = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "jupyterhub/binderhub" } });
      await fetch(`http://127.0.0.1:${port}/github/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": crypto.randomUUID(),
          "x-hub-signature-256": `sha256=${createHmac("sha256", "s3cret").update(payload).digest("hex")}`,
        },
        body: payload,
      });
    }),
  );
}

const r0 = index.requests;
const n0 = index.notModified;
const cpu0 = process.cpuUsage();
const w0 = performance.now();
for (let i = 0; i < IDLE_POLLS; i++) await app.services.notify.index.poll();
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - w0;
const requests = index.requests - r0;
const notModified = index.notModified - n0;
const cpuPerPoll = (cpu.user + cpu.system) / 1e6 / IDLE_POLLS;

console.log(`index: ${existsSync(REAL) ? "real 2024-10-24 (1.75 MB)" : "synthetic"}, ${ROUNDS} rounds`);
console.log(
  `publish → message, index polled every 1 s: median ${median(polled).toFixed(0)} ms, max ${Math.max(...polled).toFixed(0)} ms (bound: 1000 + 1000 ms)`,
);
console.log(
  `webhook → message: median ${median(hooked).toFixed(0)} ms, max ${Math.max(...hooked).toFixed(0)} ms (bound: 1000 ms)`,
);
console.log(
  `idle: ${IDLE_POLLS} polls of an unchanged index: ${requests} requests, ${notModified} answered 304, ${(wall / IDLE_POLLS).toFixed(1)} ms and ${(cpuPerPoll * 1000).toFixed(2)} ms CPU per poll`,
);
for (const [label, perHour] of [
  ["*/2 * * * * (default)", 30],
  ["*/2 * * * * * (2 s)", 1800],
] as const) {
  console.log(
    `per hour at ${label}: ${perHour} requests, ${Math.round((perHour * notModified) / requests)} of them 304, ${(perHour * cpuPerPoll).toFixed(3)} CPU s`,
  );
}

await http.stop();
await app.close();
await index.close();
await github.close();
rmSync(dataDir, { recursive: true, force: true });
repo.remove();
