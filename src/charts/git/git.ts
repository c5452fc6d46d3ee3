import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { FULL_SHA_PATTERN } from "../../core/ref.ts";

/**
 * Runs git without a shell. Arguments are an array (never a command line), the terminal is never
 * prompted for credentials, every call has a timeout, and user input only ever reaches git after
 * `--end-of-options` (callers' duty; commits pass between modules as full SHAs, see `assertSha`).
 */

/** A git call that failed: one line saying which command and why, with its exit code and stderr. */
class GitError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

export interface GitRunOptions {
  /** Milliseconds; 30 s by default. */
  timeoutMs?: number;
  /** Exit codes that are answers, not errors (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: readonly number[];
}

const FULL_SHA = new RegExp(`^${FULL_SHA_PATTERN}$`);
const TREE_LINE = new RegExp(`^tree (${FULL_SHA_PATTERN})`);

/** Environment for every git call: no prompts, no pager, no user/system config surprises. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_ASKPASS = "";
  env.SSH_ASKPASS = "";
  env.GCM_INTERACTIVE = "never";
  env.GIT_PAGER = "cat";
  env.LC_ALL = "C";
  env.GIT_CONFIG_NOSYSTEM = "1";
  // Fail rather than hang on ssh host-key questions.
  env.GIT_SSH_COMMAND = env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes";
  return env;
}

export interface TreeEntry {
  oid: string;
  type: "blob" | "tree" | "commit";
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class Git {
  readonly env = gitEnv();
  #batch: CatFileBatch | null = null;
  readonly #blobs = new Map<string, string>();
  readonly #trees = new Map<string, Map<string, TreeEntry>>();
  readonly #rootTrees = new Map<string, string>();
  /**
   * Awaited before each git process `run` and `out` start (not `pending`, not the cat-file reads):
   * lets a caller order git work against other events. The tip-moves test lands a fetch with it in
   * the middle of an answer.
   */
  beforeCommand: ((args: readonly string[]) => Promise<void> | void) | null = null;

  constructor(
    /** The repository (a bare mirror): passed as `--git-dir`. */
    readonly gitDir: string,
    readonly defaultTimeoutMs = 30_000,
  ) {}

  /** Runs `git --git-dir=<dir> <args>`; rejects with GitError on a non-ok exit code or timeout. */
  run(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
    const go = () => runGit(["--git-dir", this.gitDir, ...args], this.env, opts.timeoutMs ?? this.defaultTimeoutMs, opts.okCodes);
    const before = this.beforeCommand;
    return before ? Promise.resolve(before(args)).then(go) : go();
  }

  /**
   * Starts `git <args>` now and feeds it stdin later: the process start-up overlaps with other
   * work (e.g. `rev-list --count --stdin` started while `git log` finds the commit to count).
   */
  pending(args: readonly string[], opts: GitRunOptions = {}): { send(input: string): Promise<string>; cancel(): void } {
    const child = spawn("git", ["--git-dir", this.gitDir, ...args], { env: this.env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString("utf8");
    });
    child.stdin.on("error", () => {});
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const done = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new GitError(`git ${args[0] ?? ""} failed: ${e.message}`, args, null, err));
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(out.replace(/\n$/, ""));
        else {
          const first = err.trim().split("\n")[0] ?? "";
          const why =
            signal === "SIGKILL"
              ? `timed out after ${Math.round(timeoutMs / 1000)} s`
              : `failed (exit ${code})${first ? `: ${first}` : ""}`;
          reject(new GitError(`git ${args.slice(0, 2).join(" ")} ${why}`, args, code, err));
        }
      });
    });
    done.catch(() => {});
    return {
      send(input: string) {
        child.stdin.end(input);
        return done;
      },
      cancel() {
        child.kill();
      },
    };
  }

  /** stdout of a successful call, trailing newline removed. */
  async out(args: readonly string[], opts: GitRunOptions = {}): Promise<string> {
    return (await this.run(args, opts)).stdout.replace(/\n$/, "");
  }

  /** Object type and size, or null when missing (or ambiguous); via one long-lived `cat-file --batch`. */
  async objectType(rev: string): Promise<string | null> {
    const r = await this.#cat().check(rev);
    return r?.type ?? null;
  }

  /** The full id of what `rev` names (null when missing or ambiguous), via the batch helper. */
  async objectId(rev: string): Promise<{ oid: string; type: string } | null> {
    const r = await this.#cat().check(rev);
    return r ? { oid: r.oid, type: r.type } : null;
  }

  /** Contents of `<commit>:<path>` (a blob), or null when there is no such file. Cached by blob id. */
  async readFile(commit: string, path: string): Promise<string | null> {
    const oid = await this.pathOid(commit, path);
    if (oid?.type !== "blob") return null;
    const hit = this.#blobs.get(oid.oid);
    if (hit !== undefined) return hit;
    const r = await this.#cat().read(oid.oid);
    if (r?.type !== "blob") return null;
    const text = r.body.toString("utf8");
    if (this.#blobs.size > 2000) this.#blobs.delete(this.#blobs.keys().next().value as string);
    this.#blobs.set(oid.oid, text);
    return text;
  }

  /** A commit object's text (headers, blank line, message), via the batch helper. */
  async readCommit(commit: string): Promise<string | null> {
    assertSha(commit);
    const r = await this.#cat().read(commit);
    return r?.type === "commit" ? r.body.toString("utf8") : null;
  }

  /**
   * The object id and type at `<commit>:<path>`, walking trees only (no blob is read, so nothing
   * is fetched in a blobless mirror); null when the path does not exist. "" or "." is the root tree.
   */
  async pathOid(commit: string, path: string): Promise<TreeEntry | null> {
    assertSha(commit);
    let tree = this.#rootTrees.get(commit);
    if (!tree) {
      const text = await this.readCommit(commit);
      const m = text ? TREE_LINE.exec(text) : null;
      if (!m) return null;
      tree = m[1] as string;
      if (this.#rootTrees.size > 20000) this.#rootTrees.clear();
      this.#rootTrees.set(commit, tree);
    }
    let cur: TreeEntry = { oid: tree, type: "tree" };
    for (const part of path.split("/").filter((p) => p && p !== ".")) {
      if (cur.type !== "tree") return null;
      const e = (await this.#tree(cur.oid))?.get(part);
      if (!e) return null;
      cur = e;
    }
    return cur;
  }

  /** The entries of the folder `<commit>:<path>` by name, or null when it is not a folder. */
  async listTree(commit: string, path: string): Promise<ReadonlyMap<string, TreeEntry> | null> {
    const e = await this.pathOid(commit, path);
    return e?.type === "tree" ? this.#tree(e.oid) : null;
  }

  async #tree(oid: string): Promise<Map<string, TreeEntry> | null> {
    const hit = this.#trees.get(oid);
    if (hit) return hit;
    const r = await this.#cat().read(oid);
    if (r?.type !== "tree") return null;
    const out = new Map<string, TreeEntry>();
    const b = r.body;
    let i = 0;
    while (i < b.length) {
      const sp = b.indexOf(32, i);
      const nul = b.indexOf(0, sp);
      if (sp < 0 || nul < 0) break;
      const mode = b.subarray(i, sp).toString("latin1");
      const name = b.subarray(sp + 1, nul).toString("utf8");
      const id = b.subarray(nul + 1, nul + 21).toString("hex");
      out.set(name, { oid: id, type: mode === "40000" ? "tree" : mode === "160000" ? "commit" : "blob" });
      i = nul + 21;
    }
    if (this.#trees.size > 20000) this.#trees.clear();
    this.#trees.set(oid, out);
    return out;
  }

  /** Stops the long-lived helper process, if one was started. */
  close(): void {
    this.#batch?.close();
    this.#batch = null;
  }

  #cat(): CatFileBatch {
    if (!this.#batch || this.#batch.dead) this.#batch = new CatFileBatch(this.gitDir, this.env);
    return this.#batch;
  }
}

export function runGit(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  okCodes: readonly number[] = [],
  cwd?: string,
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args as string[],
      { env, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, killSignal: "SIGKILL", encoding: "utf8", ...(cwd ? { cwd } : {}) },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr, code: 0 });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null };
        const code = typeof e.code === "number" ? e.code : null;
        if (code !== null && okCodes.includes(code)) return resolve({ stdout, stderr, code });
        const first =
          stderr
            .trim()
            .split("\n")
            .find((l) => l.trim()) ?? "";
        const what = gitCommandLine(args);
        let msg: string;
        if (e.killed || e.signal === "SIGKILL") msg = `${what} timed out after ${Math.round(timeoutMs / 1000)} s`;
        else if (e.code === "ENOENT") msg = "git is not installed (not found on PATH)";
        else msg = `${what} failed${code !== null ? ` (exit ${code})` : ""}${first ? `: ${first}` : ""}`;
        reject(new GitError(msg, args, code, stderr));
      },
    );
  });
}

/**
 * The command as a person would recognise it in an error: `git clone <source>` (credentials in the
 * URL left out), else the subcommand and its first argument (`git fetch --quiet`), never the
 * options a clone starts with.
 */
export function gitCommandLine(args: readonly string[]): string {
  const a = args[0] === "--git-dir" ? args.slice(2) : args;
  if (a[0] === "clone") {
    const src = a[a.indexOf("--") + 1] ?? a.at(-2) ?? "";
    return `git clone ${src.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1")}`;
  }
  return `git ${a.slice(0, 2).join(" ")}`;
}

/** Throws unless `s` is a full 40-hex SHA (lower case). Full SHAs are what flows between modules. */
function assertSha(s: string): void {
  if (!FULL_SHA.test(s)) throw new Error(`internal: expected a full commit SHA, got '${s.slice(0, 50)}'`);
}

export function isFullSha(s: string): boolean {
  return FULL_SHA.test(s);
}

interface CatResult {
  oid: string;
  type: string;
  size: number;
  body: Buffer;
}

/**
 * `git cat-file --batch`: one process answers many object reads, so reading chartpress.yaml and
 * CI files at a commit costs no process start. Requests are queued; one answer per request.
 */
class CatFileBatch {
  dead = false;
  readonly #proc: ChildProcessWithoutNullStreams;
  #buf: Buffer = Buffer.alloc(0);
  readonly #queue: Array<{ body: boolean; resolve: (r: CatResult | null) => void; reject: (e: Error) => void }> = [];

  constructor(gitDir: string, env: NodeJS.ProcessEnv) {
    // In a blobless mirror a missing blob is fetched from the promisor remote on demand.
    this.#proc = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.#proc.stdout.on("data", (d: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
      this.#drain();
    });
    this.#proc.stderr.on("data", () => {});
    const die = (err: Error) => {
      this.dead = true;
      for (const q of this.#queue.splice(0)) q.reject(err);
    };
    this.#proc.on("error", (e) => die(e));
    this.#proc.on("exit", () => die(new Error("git cat-file exited")));
    this.#proc.stdin.on("error", () => {});
    (this.#proc.stderr as unknown as { unref?: () => void }).unref?.();
    (this.#proc.stdin as unknown as { unref?: () => void }).unref?.();
    this.#hold(false);
  }

  /** Keeps the event loop alive only while an answer is awaited; an idle helper never blocks exit. */
  #hold(on: boolean): void {
    const out = this.#proc.stdout as unknown as { ref?: () => void; unref?: () => void };
    if (on) {
      this.#proc.ref();
      out.ref?.();
    } else {
      this.#proc.unref();
      out.unref?.();
    }
  }

  check(rev: string): Promise<CatResult | null> {
    return this.#ask(rev, false);
  }

  read(rev: string): Promise<CatResult | null> {
    return this.#ask(rev, true);
  }

  close(): void {
    this.dead = true;
    this.#proc.stdin.end();
    this.#proc.kill();
  }

  #ask(rev: string, body: boolean): Promise<CatResult | null> {
    if (/[\n\r\0]/.test(rev)) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new Error("git cat-file is not running"));
      this.#queue.push({ body, resolve, reject });
      if (this.#queue.length === 1) this.#hold(true);
      // --batch always prints the content; for a "check" we simply drop it.
      this.#proc.stdin.write(`${rev}\n`);
    });
  }

  #drain(): void {
    for (;;) {
      const q = this.#queue[0];
      if (!q) {
        this.#hold(false);
        return;
      }
      const nl = this.#buf.indexOf(10);
      if (nl < 0) return;
      const header = this.#buf.subarray(0, nl).toString("utf8");
      if (/ (missing|ambiguous)$/.test(header)) {
        this.#buf = this.#buf.subarray(nl + 1);
        this.#queue.shift();
        q.resolve(null);
        continue;
      }
      const [oid = "", type = "", sizeText = "0"] = header.split(" ");
      const size = Number(sizeText);
      if (this.#buf.length < nl + 1 + size + 1) return;
      const content = Buffer.from(this.#buf.subarray(nl + 1, nl + 1 + size));
      this.#buf = this.#buf.subarray(nl + 1 + size + 1);
      this.#queue.shift();
      q.resolve({ oid, type, size, body: content });
    }
  }
}
