import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * A git repository built by a test: commits with fixed dates (so SHAs are the same on every run),
 * branches, merges and tags. `uploadpack.allowFilter` is on, so a mirror can clone it blobless
 * through file://, like GitHub.
 */
export class TestRepo {
  /** Seconds since the epoch of the next commit; each commit adds `step`. */
  clock = Date.parse("2024-01-01T10:00:00Z") / 1000;
  step = 60;

  private constructor(readonly path: string) {}

  static create(prefix = "binderbot-repo-"): TestRepo {
    const path = mkdtempSync(join(tmpdir(), prefix));
    const r = new TestRepo(path);
    r.git("init", "-q", "-b", "main");
    // Written in one go rather than a `git config` process per key (repositories are made by the dozen).
    appendFileSync(
      join(path, ".git", "config"),
      [
        "[user]\n\tname = Test\n\temail = test@example.com",
        "[uploadpack]\n\tallowFilter = true\n\tallowAnySHA1InWant = true",
        "[commit]\n\tgpgsign = false",
        "[tag]\n\tgpgsign = false",
        // No `git maintenance run --auto` process after each commit and merge.
        "[maintenance]\n\tauto = false\n",
      ].join("\n"),
    );
    return r;
  }

  env(date?: number): NodeJS.ProcessEnv {
    const t = `${date ?? this.clock} +0000`;
    return {
      ...process.env,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_DATE: t,
      GIT_COMMITTER_DATE: t,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    };
  }

  git(...args: string[]): string {
    return execFileSync("git", args, {
      cwd: this.path,
      env: this.env(),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  }

  /** Writes (string) or deletes (null) files in the work tree. */
  write(files: Record<string, string | null>): void {
    for (const [p, content] of Object.entries(files)) {
      const full = join(this.path, p);
      if (content === null) rmSync(full, { force: true, recursive: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
  }

  /** Commits the given changes on the current branch; returns the full SHA. */
  commit(message: string, files: Record<string, string | null> = {}, opts: { date?: number } = {}): string {
    this.write(files);
    const date = opts.date ?? this.tick();
    // One process started from node for both steps: forking a test worker (hundreds of MiB) costs
    // more than the git commands themselves, so `sh` starts the two.
    execFileSync("sh", ["-c", 'git add -A && git commit -q --allow-empty -m "$1"', "sh", message], {
      cwd: this.path,
      env: this.env(date),
    });
    return this.head();
  }

  /** A new branch at `from` (default HEAD), checked out. */
  branch(name: string, from = "HEAD"): void {
    this.git("checkout", "-q", "-b", name, from);
  }

  checkout(name: string): void {
    this.git("checkout", "-q", name);
  }

  /** `git merge --no-ff <branch>` on the current branch, like GitHub's merge button. */
  merge(branch: string, message: string, opts: { date?: number } = {}): string {
    const date = opts.date ?? this.tick();
    execFileSync("git", ["merge", "-q", "--no-ff", "-m", message, branch], {
      cwd: this.path,
      env: this.env(date),
      stdio: "pipe",
    });
    return this.head();
  }

  tag(name: string, at = "HEAD", annotated = false): void {
    if (annotated) this.git("tag", "-a", "-m", name, name, at);
    else this.git("tag", name, at);
  }

  /** HEAD's commit, read from the ref file when it is a loose ref (no process), else from rev-parse. */
  head(): string {
    const head = readFileSync(join(this.path, ".git", "HEAD"), "utf8").trim();
    const ref = head.startsWith("ref: ") ? join(this.path, ".git", head.slice(5)) : null;
    const sha = ref === null ? head : existsSync(ref) ? readFileSync(ref, "utf8").trim() : "";
    return /^[0-9a-f]{40}$/.test(sha) ? sha : this.git("rev-parse", "HEAD");
  }

  /** A root commit on ref `refs/heads/<branch>` made with commit-tree (fixed tree, date, author). */
  orphanCommit(branch: string, message: string, env: NodeJS.ProcessEnv): string {
    const tree = execFileSync("git", ["hash-object", "-t", "tree", "-w", "--stdin"], {
      cwd: this.path,
      input: "",
      encoding: "utf8",
    }).trim();
    const sha = execFileSync("git", ["commit-tree", tree, "-m", message], {
      cwd: this.path,
      env: { ...this.env(), ...env },
      encoding: "utf8",
    }).trim();
    this.git("update-ref", `refs/heads/${branch}`, sha);
    return sha;
  }

  tick(): number {
    this.clock += this.step;
    return this.clock;
  }

  /** ISO time of the clock (the last commit's date). */
  iso(offsetS = 0): string {
    return new Date((this.clock + offsetS) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
