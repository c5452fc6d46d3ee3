/**
 * Start-up cost of the compiled CLI, each as a ratio to `node -e 0` measured in the same run
 * (interleaved rounds, so machine load hits all alike): wall time and peak RSS (GNU time's %M).
 *
 *   npm run build && npx tsx bench/startup.ts [ROUNDS]
 *
 * Cases: `--help`; `ask --json '!binder help'`; a new process's first `sha` of the tip of main with
 * the mirror already on disk, and with a fresh data dir where the mirror is cloned first (from a
 * local repository: $BINDERHUB_GIT when set, else a synthetic one; the index is a local file; GitHub
 * refuses connections, so the pin is "unknown" at once); the same
 * `ask help` run from the TypeScript sources through tsx, as it ran before the compiled build; and
 * the RSS of an idle `binderbot run` (terminal adapter, HTTP server with /metrics on) once /readyz
 * answers.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildProblem } from "../scripts/build-state.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "bin/binderbot.js");
const ROUNDS = Number(process.argv[2] ?? 7);
const problem = buildProblem();
if (problem) {
  console.error(`bench/startup: ${problem}`);
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), "binderbot-startup-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

/** A port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function syntheticRepo(): string {
  const dir = join(tmp, "src.git");
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", dir]);
  const cp = "charts:\n  - name: binderhub\n    baseVersion: 1.0.0-0.dev\n    paths: [../binderhub]\n";
  const blob = (s: string) => `data ${Buffer.byteLength(s)}\n${s}`;
  const lines: string[] = [];
  for (let i = 1; i <= 2000; i++) {
    lines.push(
      "commit refs/heads/main",
      `mark :${i}`,
      `committer B <b@example.com> ${1_700_000_000 + i * 600} +0000`,
      blob(`c ${i}`),
    );
    if (i > 1) lines.push(`from :${i - 1}`);
    if (i === 1) {
      lines.push("M 100644 inline helm-chart/chartpress.yaml", blob(cp));
      lines.push("M 100644 inline helm-chart/binderhub/Chart.yaml", blob("name: binderhub\nversion: 0.0.1\n"));
    }
    lines.push(`M 100644 inline ${i % 3 ? "docs" : "binderhub"}/f${i % 40}`, blob(`${i}\n`));
  }
  execFileSync("git", ["--git-dir", dir, "fast-import", "--quiet"], { input: `${lines.join("\n")}\n` });
  return dir;
}

const real = process.env.BINDERHUB_GIT ?? "";
const repo = real !== "" && existsSync(join(real, "HEAD")) ? real : syntheticRepo();
const realIndex = resolve(ROOT, "../shared/data/helm-chart-index-2024-10-24.yaml");
const index = repo === real && existsSync(realIndex) ? realIndex : join(tmp, "index.yaml");
if (index !== realIndex) writeFileSync(index, "apiVersion: v1\nentries:\n  binderhub: []\n");
const tip = execFileSync("git", ["--git-dir", repo, "rev-parse", "refs/heads/main"], { encoding: "utf8" }).trim();
const githubPort = await closedPort();
const config = join(tmp, "bench.yaml");
const httpPort = await closedPort();
writeFileSync(
  config,
  `store: memory
dataDir: \${BINDERBOT_DATA_DIR}
mirrors: { fetchCron: "" }
github: { apiUrl: "http://127.0.0.1:${githubPort}" }
http: { port: ${httpPort}, host: 127.0.0.1 }
charts:
  - name: binderhub
    github: jupyterhub/binderhub
    git: ${repo}
    index: ${index}
    branch: main
deploy:
  github: jupyterhub/mybinder.org-deploy
`,
);

let dirs = 0;
/** One run under GNU time: wall ms and peak RSS KiB. */
function measure(argv: string[], check?: (stdout: string) => boolean, dataDir?: string): { ms: number; kib: number } {
  const env = { ...process.env, BINDERBOT_DATA_DIR: dataDir ?? join(tmp, `data-${++dirs}`), BINDERBOT_CONFIG: config };
  const t = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { env, encoding: "utf8", cwd: tmp });
  const ms = performance.now() - t;
  if (r.status !== 0 || (check && !check(r.stdout))) throw new Error(`${argv.join(" ")} failed: ${r.stderr}${r.stdout}`);
  const kib = Number(r.stderr.trim().split("\n").at(-1));
  return { ms, kib };
}

const node = process.execPath;
const shaOk = (o: string) => o.includes('"command":"sha"') && o.includes('"ok":true');
const shaArgv = [node, BIN, "ask", "--json", `!binder sha ${tip}`];
// A process's first sha with the mirror already on disk (an operator's data dir): one untimed run clones it.
const warmDir = join(tmp, "data-warm");
measure(shaArgv, shaOk, warmDir);
const cases: Array<[string, string[], ((o: string) => boolean)?, string?]> = [
  ["node -e 0", [node, "-e", "0"]],
  ["binderbot --help", [node, BIN, "--help"]],
  ["binderbot ask --json '!binder help'", [node, BIN, "ask", "--json", "!binder help"], (o) => o.includes('"command":"help"')],
  ["cold process, first sha (mirror on disk; index read, history walked)", shaArgv, shaOk, warmDir],
  ["first sha ever (fresh data dir: the mirror is cloned first)", shaArgv, shaOk],
  [
    "before: ask help from the sources via tsx",
    [node, "--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/entry.ts"), "ask", "--json", "!binder help"],
    (o) => o.includes('"command":"help"'),
  ],
];
const results = new Map<string, Array<{ ms: number; kib: number }>>(cases.map(([n]) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, argv, check, dir] of cases) results.get(name)?.push(measure(argv, check, dir));
}

/** RSS of an idle `binderbot run` once it answers /readyz (and after a second of settling). */
async function idleRun(): Promise<number> {
  const env = { ...process.env, BINDERBOT_DATA_DIR: join(tmp, `data-${++dirs}`), BINDERBOT_CONFIG: config };
  const p = spawn(node, [BIN, "run"], { env, cwd: tmp, stdio: ["pipe", "ignore", "ignore"] });
  try {
    for (let i = 0; i < 200; i++) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const status = readFileSync(`/proc/${p.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  } finally {
    p.kill("SIGTERM");
    await new Promise((r) => p.once("exit", r));
  }
}
const idle: number[] = [];
for (let i = 0; i < 3; i++) idle.push(await idleRun());

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const base = results.get("node -e 0") ?? [];
const baseMs = median(base.map((r) => r.ms));
const mib = (kib: number) => (kib / 1024).toFixed(0);
console.log(
  `Node ${process.version}, ${ROUNDS} interleaved rounds, medians; source: ${repo === real ? "real binderhub history" : "synthetic 2000-commit repository"}`,
);
console.log("| case | wall ms | × node -e 0 | peak RSS MiB |");
console.log("|---|---|---|---|");
for (const [name, rs] of results) {
  const ms = median(rs.map((r) => r.ms));
  console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / baseMs).toFixed(1)} | ${mib(median(rs.map((r) => r.kib)))} |`);
}
console.log(`| idle \`binderbot run\` (terminal + HTTP/metrics), RSS after /readyz | | | ${mib(median(idle))} |`);
