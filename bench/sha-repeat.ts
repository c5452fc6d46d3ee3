/**
 * A repeated `sha` answer (issue #12: "repeated `sha` < 1 ms in-process"): `!binder sha <commit>` asked
 * again for the same commit, through the bot's whole in-process path (parse, dedupe claim on the store,
 * access, the command, the chart service) with the deploy pin cached (60 s), the chart index parsed
 * and the commit's computation cached, against local fakes only.
 *
 *   npx tsx bench/sha-repeat.ts [N]      (results go into docs/benchmarks.md, "## sha")
 *
 * The app is the real one (createApp) on the memory store: a local git repository with a merged PR
 * (the merge's chart is the PR commit's), the Helm repository fake serving the real 1.75 MB index of
 * 2024-10-24 with that chart added when ../shared/data has it (else a two-entry index), and the
 * GitHub fake serving the deploy repository's chart file (the pin). Requests to the fakes during the
 * repeats are counted: a repeated answer asks neither of them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import { renderPlain } from "../src/core/render.ts";
import { openStore } from "../src/store/store.ts";
import { startFakeGitHub } from "../test/fakes/github.ts";
import { indexYaml, startIndexServer, withEntries } from "../test/fakes/index-server.ts";
import { CHART_FILE, DEPLOY, deployChartYaml } from "../test/helpers/deploy.ts";
import { TestRepo } from "../test/helpers/git.ts";
import { silentLogger } from "../test/helpers/log.ts";
import { prRepo } from "../test/helpers/notify.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const REAL = path.resolve(here, "../../shared/data/helm-chart-index-2024-10-24.yaml");
const N = Number(process.argv[2] ?? 2000);

const repo = TestRepo.create();
const t = prRepo(repo);
const ours = [t.existing, { version: t.published, created: repo.iso(60) }];
const real = existsSync(REAL);
const index = await startIndexServer({
  body: real ? withEntries(readFileSync(REAL, "utf8"), "binderhub", ours) : indexYaml({ binderhub: ours }),
});
const github = await startFakeGitHub();
github.setRepo(DEPLOY);
github.setFile(DEPLOY, CHART_FILE, deployChartYaml(t.existing.version), "main");
const dataDir = mkdtempSync(path.join(tmpdir(), "bb-bench-sha-"));
const yaml = `store: memory
dataDir: ${dataDir}
mirrors: { fetchCron: "" }
github: { apiUrl: ${github.url} }
flood: { max: 0 }
charts:
  - { name: binderhub, github: jupyterhub/binderhub, git: ${repo.path}, index: ${index.url} }
deploy: { github: ${DEPLOY} }
`;
const app = await createApp(parseConfig(yaml, "bench.yaml", {}), { log: silentLogger(), store: await openStore("memory", ".") });

let seq = 0;
const ask = () =>
  app.bot.handle({
    platform: "bench",
    room: "ops",
    userId: "alice",
    text: `!binder sha ${t.merge.slice(0, 7)}`,
    eventId: `e${++seq}`,
  });

// The first answer clones the mirror, parses the index and reads the pin; it must be the right one.
let t0 = performance.now();
const first = await ask();
const firstMs = performance.now() - t0;
const text = first ? renderPlain(first) : "";
if (!first?.ok || !text.includes(t.published) || !text.includes(`version: "${t.published}"`)) {
  throw new Error(`unexpected first answer:\n${text}`);
}
for (let i = 0; i < 200; i++) await ask(); // JIT warm-up

const gh0 = github.requests.length;
const ix0 = index.requests;
const ms: number[] = [];
const cpu0 = process.cpuUsage();
t0 = performance.now();
for (let i = 0; i < N; i++) {
  const s = performance.now();
  const r = await ask();
  ms.push(performance.now() - s);
  if (!r?.ok || r.data?.version !== t.published) throw new Error("a repeated answer differs from the first");
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
ms.sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;

console.log(
  `index: ${real ? "real 2024-10-24 (1.75 MB) + the bench's chart" : "two entries"}; ${N} repeats of !binder sha <merge>`,
);
console.log(`first answer (clone, index parse, pin read): ${firstMs.toFixed(0)} ms`);
console.log(
  `repeated answer: median ${q(0.5).toFixed(3)} ms, p95 ${q(0.95).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms, max ${ms.at(-1)!.toFixed(2)} ms`,
);
console.log(
  `CPU per answer ${(((cpu.user + cpu.system) / 1000 / N) * 1000).toFixed(0)} µs; ${(wall / N).toFixed(3)} ms wall per answer`,
);
console.log(`requests during the repeats: GitHub ${github.requests.length - gh0}, chart index ${index.requests - ix0}`);

await app.close();
await index.close();
await github.close();
rmSync(dataDir, { recursive: true, force: true });
repo.remove();
