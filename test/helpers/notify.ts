import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeChartEntry } from "../fakes/index-server.ts";
import { BIN } from "./cli.ts";
import type { TestRepo } from "./git.ts";

export const CHARTPRESS = `charts:
  - name: binderhub
    baseVersion: 1.0.0-0.dev
    images:
      binderhub:
        contextPath: ..
        dockerfilePath: images/binderhub/Dockerfile
        rebuildOnContextPathChanges: false
        paths: [../binderhub]
`;

/**
 * A binderhub-like repository: a first chart commit (published before the test starts) and PR
 * #1887 merged with GitHub's merge button, whose chart commit is the PR's last commit.
 */
export function prRepo(repo: TestRepo): { base: string; pr: string; merge: string; existing: FakeChartEntry; published: string } {
  repo.clock = Date.parse("2024-09-01T10:00:00Z") / 1000;
  const base = repo.commit("chart", {
    "helm-chart/chartpress.yaml": CHARTPRESS,
    "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.0.1\n",
    "helm-chart/images/binderhub/Dockerfile": "FROM x\n",
    "binderhub/app.py": "1\n",
    ".github/workflows/publish.yml": "steps:\n  - run: pip install chartpress>=2.1\n",
  });
  repo.branch("faster");
  const pr = repo.commit("make it faster", { "binderhub/app.py": "2\n" });
  repo.checkout("main");
  const merge = repo.merge("faster", "Merge pull request #1887 from someone/faster\n\nMake the builder faster");
  const v = (sha: string) => `1.0.0-0.dev.git.${repo.git("rev-list", "--count", sha)}.h${sha.slice(0, 8)}`;
  return {
    base,
    pr,
    merge,
    existing: { version: v(base), created: "2024-09-01T10:01:00Z" },
    published: v(pr),
  };
}

export interface RunningBot {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once a whole stderr line (the JSON log) matches. */
  logged(pred: (line: string) => boolean): Promise<void>;
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * `binderbot run --config <dir>/<name>` as a real process in `dir`, stdout and stderr captured. Its
 * terminal input is closed at once (the terminal stays open for notifications when it is subscribed).
 */
export function startBot(dir: string, yaml: string, name = "config.yaml", env: Record<string, string> = {}): RunningBot {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  const p = spawn(process.execPath, [BIN, "run", "--config", file], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiting: Array<() => void> = [];
  p.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  p.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    for (const f of waiting.splice(0)) f();
  });
  const exited = new Promise<number>((r) => p.once("exit", (code) => r(code ?? -1)));
  return {
    proc: p,
    stdout: () => out,
    stderr: () => err,
    logged: (pred) =>
      new Promise<void>((r) => {
        const check = () => (err.split("\n").slice(0, -1).some(pred) ? r() : waiting.push(check));
        check();
      }),
    exited,
    kill: (signal = "SIGKILL") => {
      if (p.exitCode === null && p.signalCode === null) p.kill(signal);
    },
  };
}

/** Occurrences of `needle` in `text`. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
