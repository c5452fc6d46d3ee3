import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Logger } from "pino";
import { errorLine } from "../../core/one-line.ts";
import { timeSource } from "../../source-timing.ts";
import { Git, isFullSha, runGit } from "./git.ts";

export interface MirrorOptions {
  /** Chart name: the mirror lives at `<dataDir>/mirrors/<name>.git`. */
  name: string;
  /** Clone URL, or a local path to a repository. */
  url: string;
  dataDir: string;
  log: Logger;
  /** The default branch; discovered from the remote's HEAD when absent. */
  branch?: string;
  /** Clone/fetch timeout (ms); 10 min by default. */
  fetchTimeoutMs?: number;
  now?: () => Date;
}

/** A URL (`scheme://…`) or scp-like `user@host:path`, as opposed to a local path. */
function isRemote(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[\w.-]+@[\w.-]+:/.test(url);
}

/**
 * Branches, tags, and GitHub's `refs/pull/<n>/head`: a commit of a PR from a fork is on no branch of
 * the repository, and without its PR ref the bot could only say "unknown commit" instead of "on PR
 * #n, not merged yet". A remote without such refs simply fetches none.
 */
const REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+refs/pull/*/head:refs/pull/*/head"];

async function ensureRefspecs(git: Git): Promise<void> {
  const have = (await git.run(["config", "--get-all", "remote.origin.fetch"], { okCodes: [1] })).stdout.split("\n");
  for (const spec of REFSPECS) {
    if (!have.includes(spec)) await git.run(["config", "--add", "remote.origin.fetch", spec]);
  }
}

/** The mirror's partial-clone filter ("blob:none"), or "" for a full clone. */
async function partialCloneFilter(git: Git): Promise<string> {
  return (await git.run(["config", "--get", "remote.origin.partialclonefilter"], { okCodes: [1] })).stdout.trim();
}

/** A URL git understands as remote, or an absolute local path (relative paths resolve against cwd). */
function cloneSource(url: string): string {
  if (isRemote(url)) return url;
  return isAbsolute(url) ? url : resolve(url);
}

/**
 * A bare mirror of one chart's upstream repository: branches and tags, blobless where the remote
 * allows it (commits and trees are all `git log -- <paths>` needs; the few files read at a commit
 * are fetched on demand), a full clone otherwise. Fetches are coalesced: concurrent callers share
 * one `git fetch`.
 */
export class Mirror {
  readonly dir: string;
  readonly git: Git;
  /** "blobless" or "full", once cloned. */
  mode: "blobless" | "full" | null = null;
  lastFetch: Date | null = null;
  fetchCount = 0;

  readonly #opts: MirrorOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  #ready: Promise<void> | null = null;
  #fetching: Promise<void> | null = null;
  #branch: string | null;

  constructor(opts: MirrorOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: "mirror", chart: opts.name });
    this.#now = opts.now ?? (() => new Date());
    this.dir = join(resolve(opts.dataDir), "mirrors", `${opts.name}.git`);
    this.git = new Git(this.dir);
    this.#branch = opts.branch ?? null;
  }

  /** Clones on first use (once; concurrent callers wait for the same clone). */
  ready(): Promise<void> {
    if (!this.#ready) {
      this.#ready = this.#open().catch((e) => {
        this.#ready = null;
        throw e;
      });
    }
    return this.#ready;
  }

  /** The default branch name. */
  async branch(): Promise<string> {
    await this.ready();
    if (this.#branch) return this.#branch;
    const head = await this.git.run(["symbolic-ref", "--quiet", "HEAD"], { okCodes: [1] });
    const name = head.stdout.trim().replace(/^refs\/heads\//, "");
    this.#branch = name || "main";
    return this.#branch;
  }

  /** One `git fetch` (branches with pruning, and tags); concurrent calls share it. */
  fetch(): Promise<void> {
    if (!this.#fetching) {
      this.#fetching = (async () => {
        await this.ready();
        const t0 = performance.now();
        await timeSource("git-fetch", () =>
          this.git.run(["fetch", "--quiet", "--prune", "--tags", "--no-write-fetch-head", "origin"], {
            timeoutMs: this.#opts.fetchTimeoutMs ?? 600_000,
          }),
        );
        this.lastFetch = this.#now();
        this.fetchCount++;
        this.#log.debug({ ms: Math.round(performance.now() - t0) }, "mirror fetched");
      })().finally(() => {
        this.#fetching = null;
      });
    }
    return this.#fetching;
  }

  /** True when the full SHA names a commit present in the mirror. */
  async hasCommit(sha: string): Promise<boolean> {
    if (!isFullSha(sha)) return false;
    await this.ready();
    return (await this.git.objectType(sha)) === "commit";
  }

  async #open(): Promise<void> {
    if (existsSync(join(this.dir, "HEAD"))) {
      this.mode = (await partialCloneFilter(this.git)) ? "blobless" : "full";
      await ensureRefspecs(this.git);
      return;
    }
    await timeSource("git-clone", () => this.#clone());
  }

  async #clone(): Promise<void> {
    const src = cloneSource(this.#opts.url);
    await mkdir(dirname(this.dir), { recursive: true });
    const tmp = `${this.dir}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
    await rm(tmp, { recursive: true, force: true });
    const timeout = this.#opts.fetchTimeoutMs ?? 600_000;
    const env = this.git.env;
    const t0 = performance.now();
    // A local path is cloned through the file:// transport so that --filter is honoured when the
    // source allows it (`uploadpack.allowFilter`); git falls back to a full clone (with a warning)
    // when the remote does not support filtering.
    const source = isRemote(this.#opts.url) ? src : `file://${src}`;
    let mode: "blobless" | "full" = "blobless";
    // Settings written by the clone itself (one process fewer each): a commit-graph kept so that
    // rev-list/log stay fast as history grows; no automatic gc or maintenance process after fetches.
    const settings = ["-c", "fetch.writeCommitGraph=true", "-c", "gc.auto=0", "-c", "maintenance.auto=false"];
    try {
      const r = await runGit(
        ["clone", "--bare", ...settings, "--filter=blob:none", "--no-tags", "--", source, tmp],
        env,
        timeout,
      );
      // "filtering not recognized by server, ignoring": the remote sent everything.
      if (/filtering not recognized|filter.*ignored/i.test(r.stderr)) mode = "full";
    } catch (e) {
      this.#log.info({ err: errorLine(e) }, "blobless clone failed; trying a full clone");
      await rm(tmp, { recursive: true, force: true });
      await runGit(["clone", "--bare", ...settings, "--quiet", "--no-tags", "--", source, tmp], env, timeout);
    }
    const g = new Git(tmp);
    const filter = await partialCloneFilter(g);
    if (!filter) mode = "full";
    if (mode === "full" && filter) {
      // Everything is here: the remote is no promisor.
      await g.run(["config", "--unset", "remote.origin.partialclonefilter"], { okCodes: [5] });
      await g.run(["config", "--unset", "remote.origin.promisor"], { okCodes: [5] });
    }
    await g.run(["config", "--unset-all", "remote.origin.fetch"], { okCodes: [5] });
    for (const spec of REFSPECS) await g.run(["config", "--add", "remote.origin.fetch", spec]);
    await g.run(["fetch", "--quiet", "--prune", "--tags", "--no-write-fetch-head", "origin"], { timeoutMs: timeout });
    await g.run(["commit-graph", "write", "--reachable"]).catch(() => {});
    if (await this.#install(tmp)) {
      this.mode = mode;
    } else {
      await rm(tmp, { recursive: true, force: true });
      this.#log.info("another process cloned the mirror first; using it");
      this.mode = (await partialCloneFilter(this.git)) ? "blobless" : "full";
    }
    this.lastFetch = this.#now();
    this.fetchCount++;
    this.#log.info({ mode, ms: Math.round(performance.now() - t0) }, "mirror cloned");
  }

  /**
   * Moves a finished clone into place; false when another process's mirror is there already. Several
   * processes (replicas, `ask` runs) may clone the same mirror at once: the first rename wins and the
   * others use its mirror. Nothing is deleted at the mirror's path, where a finished mirror may appear
   * at any moment; a leftover that is no mirror (no HEAD) is first renamed aside, then deleted.
   */
  async #install(tmp: string): Promise<boolean> {
    const head = join(this.dir, "HEAD");
    try {
      await rename(tmp, this.dir);
      return true;
    } catch (e) {
      if (existsSync(head)) return false;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "ENOTDIR") throw e;
    }
    const aside = `${this.dir}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
    await rename(this.dir, aside).catch(() => {}); // another process may have set it aside first
    if (existsSync(join(aside, "HEAD"))) {
      // A mirror was renamed in between the two steps: it stays, ours is dropped.
      await rename(aside, this.dir).catch(() => this.#log.warn({ aside }, "a mirror was set aside; delete it by hand"));
      return false;
    }
    await rm(aside, { recursive: true, force: true });
    try {
      await rename(tmp, this.dir);
      return true;
    } catch (e) {
      if (existsSync(head)) return false;
      throw e;
    }
  }
}
