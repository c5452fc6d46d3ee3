/**
 * A warm `sha` answer (mirror cloned, index parsed) against the raw git it needs:
 * `git log -n1 --format=%H <commit> -- <chart paths>` + `git rev-list --count <chart commit>`.
 *
 *   npx tsx bench/sha-warm.ts              # the real binderhub history if $BINDERHUB_GIT names a local
 *                                          # clone, else a synthetic 4000-commit repository
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChartService } from "../src/charts/answer/service.ts";
import { Git } from "../src/charts/git/git.ts";
import { parseConfig } from "../src/config/load.ts";
import { openStore } from "../src/store/store.ts";
import { silentLogger } from "../test/helpers/log.ts";

const REAL = process.env.BINDERHUB_GIT ?? "";
const REAL_INDEX = new URL("../../shared/data/helm-chart-index-2024-10-24.yaml", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "binderbot-bench-"));

function synthetic(): string {
  const dir = join(tmp, "src.git");
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", dir]);
  const cp = `charts:\n  - name: binderhub\n    baseVersion: 1.0.0-0.dev\n    images:\n      binderhub:\n        contextPath: ..\n        dockerfilePath: images/binderhub/Dockerfile\n        rebuildOnContextPathChanges: false\n        paths: [../binderhub]\n`;
  const lines: string[] = [];
  const blob = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  for (let i = 1; i <= 4000; i++) {
    const t = 1_700_000_000 + i * 600;
    lines.push("commit refs/heads/main", `mark :${i}`, `committer B <b@example.com> ${t} +0000`, blob(`commit ${i}`));
    if (i > 1) lines.push(`from :${i - 1}`);
    if (i === 1) {
      lines.push("M 100644 inline helm-chart/chartpress.yaml", blob(cp));
      lines.push("M 100644 inline helm-chart/binderhub/Chart.yaml", blob("name: binderhub\nversion: 0.0.1\n"));
      lines.push("M 100644 inline .github/workflows/publish.yml", blob("- run: pip install chartpress>=2.1\n"));
    }
    const path = i % 3 === 0 ? `binderhub/f${i % 50}.py` : `docs/d${i % 50}.md`;
    lines.push(`M 100644 inline ${path}`, blob(`${i}\n`));
  }
  execFileSync("git", ["--git-dir", dir, "fast-import", "--quiet"], { input: `${lines.join("\n")}\n` });
  return dir;
}

const source = REAL !== "" && existsSync(join(REAL, "HEAD")) ? REAL : synthetic();
const indexUrl = source === REAL && existsSync(REAL_INDEX) ? REAL_INDEX : join(tmp, "none.yaml");
if (indexUrl !== REAL_INDEX) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(indexUrl, "apiVersion: v1\nentries:\n  binderhub: []\n");
}
const { config } = parseConfig(
  `
store: memory
dataDir: ${tmp}
mirrors: { fetchCron: "" }
charts:
  - name: binderhub
    github: jupyterhub/binderhub
    git: ${source}
    index: ${indexUrl}
    branch: main
deploy:
  github: jupyterhub/mybinder.org-deploy
`,
  "bench.yaml",
  {},
);
const svc = new ChartService({ config, store: await openStore("memory", "."), log: silentLogger(), now: () => new Date() });
const mirror = svc.mirror("binderhub");
const t0 = performance.now();
await mirror.ready();
const cloneMs = performance.now() - t0;

// Samples: first-parent commits of the chartpress >= 2 era (binderhub: since 2022-10), evenly spread.
const fp = execFileSync("git", ["--git-dir", mirror.dir, "rev-list", "--first-parent", "--since=2022-10-15", "main"], {
  encoding: "utf8",
})
  .trim()
  .split("\n");
const N = 60;
const samples = Array.from({ length: N }, (_, i) => fp[Math.floor((i * fp.length) / N)]!).filter(Boolean);
const warmup = fp[fp.length - 1]!;
await svc.answerCommit("binderhub", warmup); // index parsed, first-parent list and tags cached

// The paths each sample needs (what chartpress.yaml says at that commit), for the raw baseline.
const answers = new Map<string, { paths: string[]; chartCommit: string }>();
for (const s of samples) {
  const a = await svc.answerCommit("binderhub", s);
  answers.set(s, { paths: a.paths, chartCommit: a.chartCommit });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const git = new Git(mirror.dir);
async function raw(s: string): Promise<void> {
  const { paths } = answers.get(s)!;
  const m = await git.out(["log", "-n1", "--format=%H", s, "--", ...paths]);
  await git.out(["rev-list", "--count", m]);
}

// Rounds alternate so that neither side gets a warmer page cache.
const rawMs: number[] = [];
const firstMs: number[] = [];
const repeatMs: number[] = [];
for (let round = 0; round < 3; round++) {
  const fresh = new ChartService({ config, store: await openStore("memory", "."), log: silentLogger(), now: () => new Date() });
  await fresh.answerCommit("binderhub", warmup);
  for (const s of samples) {
    let t = performance.now();
    await raw(s);
    rawMs.push(performance.now() - t);
    t = performance.now();
    await fresh.answerCommit("binderhub", s);
    firstMs.push(performance.now() - t);
    t = performance.now();
    await fresh.answerCommit("binderhub", s);
    repeatMs.push(performance.now() - t);
  }
  fresh.close();
}
svc.close();
git.close();

const r = median(rawMs);
const f = median(firstMs);
const p = median(repeatMs);
console.log(
  `source: ${source === REAL ? "real jupyterhub/binderhub history" : "synthetic 4000-commit repository"} (${fp.length} first-parent commits sampled: ${samples.length})`,
);
console.log(`mirror: ${mirror.mode} clone in ${cloneMs.toFixed(0)} ms`);
console.log(`raw git log -n1 -- <paths> + rev-list --count   median ${r.toFixed(2)} ms`);
console.log(`sha answer, first time for the commit (warm)     median ${f.toFixed(2)} ms  (${(f / r).toFixed(2)}x raw)`);
console.log(`sha answer, repeated (per-commit cache)          median ${p.toFixed(3)} ms  (${(p / r).toFixed(3)}x raw)`);
rmSync(tmp, { recursive: true, force: true });
