import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN } from "./cli.ts";

export interface BotProcess {
  proc: ChildProcess;
  /** The exit code (-1 when ended by a signal). */
  exited: Promise<number>;
  /** Resolves once a whole line of stderr (the JSON log) matches. */
  logged(pred: (line: string) => boolean): Promise<void>;
  stderr(): string;
  /** What it printed (the terminal's messages when it runs as the shell). */
  stdout(): string;
  /** SIGKILL unless it has exited (afterEach). */
  kill(): void;
}

/**
 * The real `binderbot run` process with `yaml` as its config file in `dir` (also its cwd), and only
 * PATH plus `env` in its environment, so secrets reach it the way an operator passes them.
 */
export function runBot(dir: string, yaml: string, env: Record<string, string>): BotProcess {
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  const p = spawn(process.execPath, [BIN, "run", "--config", file], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  p.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  const waiting: Array<() => void> = [];
  p.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    for (const f of waiting.splice(0)) f();
  });
  const exited = new Promise<number>((r) => p.once("exit", (code) => r(code ?? -1)));
  // Whole lines only: a line may arrive split over two chunks.
  const logged = (pred: (l: string) => boolean) =>
    new Promise<void>((r) => {
      const check = () => (stderr.split("\n").slice(0, -1).some(pred) ? r() : waiting.push(check));
      check();
    });
  return {
    proc: p,
    exited,
    logged,
    stderr: () => stderr,
    stdout: () => stdout,
    kill: () => {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    },
  };
}
