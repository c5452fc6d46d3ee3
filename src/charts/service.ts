import yaml from "js-yaml";
import cron from "node-cron";
import type { Logger } from "pino";
import type { ChartConfig, Config } from "../config/schema.ts";
import type { UserRef } from "../core/ref.ts";
import { createOctokit, githubErrorLine, type Octokit } from "../github/client.ts";
import type { Store } from "../store/store.ts";
import {
  ChartpressConfigError,
  chartpressPaths,
  detectChartpress,
  GENERATION_LABEL,
  type Generation,
  parseChartpressYaml,
  readChartpressYaml,
  toRepoPaths,
} from "./chartpress.ts";
import { GitError, isFullSha } from "./git.ts";
import { ChartIndex, formatAge, type IndexEntry, type IndexSnapshot } from "./index.ts";
import { Mirror } from "./mirror.ts";
import { PinError, PinReader, pinLine } from "./pin.ts";
import { chartVersion } from "./version.ts";
import { parseChartVersion } from "./version-format.ts";

/** How the chart commit relates to the commit that was asked about. */
export type ShaRelation =
  /** the commit asked about is itself the last commit touching the chart paths */
  | "chart-commit"
  /** a merge whose chart paths equal one parent's: git history simplification follows that parent (the 2018 case) */
  | "merge-same-as-parent"
  /** a default-branch commit that changed nothing under the chart paths */
  | "outside-chart-paths"
  /** a commit on a PR branch: CI built the first default-branch commit that contains it */
  | "pr-branch"
  /** chartpress took the latest tag, which is newer than the last change to the chart paths */
  | "tag";

/** The answer to "which chart version is this commit?", exactly as chartpress computed it. */
export interface ShaAnswer {
  chart: string;
  /** Full SHA of the commit asked about (after resolving a PR, branch or short hash). */
  commit: string;
  /** Full SHA of the default-branch commit CI built (== commit unless it is a PR-branch commit). */
  builtCommit: string;
  /** Full SHA of the chart commit (`git log -n1 -- <chart paths>` at builtCommit, or the tag). */
  chartCommit: string;
  relation: ShaRelation;
  /** One or two sentences: why the chart commit is what it is. */
  reason: string;
  /** PR number when known (asked as a PR, or read from the merge commit's subject). */
  pr: number | null;
  /** The version to pin: the published entry's when there is one, else the predicted one. */
  version: string;
  /** What the rule gives for this commit in the format of its chartpress era. */
  computed: string;
  published: boolean;
  publishedAt: string | null;
  entry: IndexEntry | null;
  /** chartpress generation used (e.g. "chartpress >=2.0"). */
  chartpress: string;
  /** The chart paths given to `git log`, relative to the repository root. */
  paths: string[];
  /** Committer date of builtCommit (≈ when it was merged/pushed), ISO. */
  mergedAt: string;
  /** Whole minutes from mergedAt to now. */
  minutesSinceMerge: number;
  /** Hex digits of the hash in `version` (from the published entry, or predicted from the index). */
  hashLength: number;
  /**
   * Index freshness: when the copy was last confirmed, whether it is a stale last-good copy, and
   * why the refresh failed. `fetchedAt` null: no copy at all (published status unknown).
   */
  index: { source: string; fetchedAt: string | null; stale: boolean; error: string | null };
  /** The deploy repository's pin (filled by `answer`; null when not asked for or no deploy repo). */
  pin: PinInfo | null;
}

/** What a pinned-but-missing chart version most likely meant (for `why`). */
export interface VersionExplanation {
  /** The index entry for exactly this version, if there is one. */
  published: IndexEntry | null;
  /** Full SHA the version names, when it names one that exists in the repository. */
  sha: string | null;
  kind:
    | "published"
    | "merge-commit"
    | "pr-branch"
    | "not-chart-commit"
    | "wrong-format"
    | "not-published-yet"
    | "unknown-sha"
    | "no-sha";
  /** The chart that commit really has (null when there is none to offer). */
  correct: ShaAnswer | null;
  /** One or two sentences for chat. */
  message: string;
}

/** The deploy repository's pin, next to an answer. */
export interface PinInfo {
  repo: string;
  file: string;
  branch: string;
  /** What is pinned now on the default branch (null: no such dependency, or unreadable). */
  pinned: string | null;
  /** The exact line to write under the chart's dependency. */
  line: string;
  /**
   * Published versions between the pin and the answer (by `created`): > 0 the pin is that many
   * versions behind; 0 it is the answer; < 0 the pin is newer. Null when it cannot be told.
   */
  behind: number | null;
  /** Why the pin could not be read (one line), else null. */
  error: string | null;
}

export type ShaErrorCode =
  | "unknown-ref"
  | "ambiguous"
  | "github"
  | "git"
  | "no-chartpress"
  | "not-merged"
  | "pr-not-merged"
  | "unknown-chart";

/** A failure with one clear line for chat (never a stack trace). */
export class ShaError extends Error {
  constructor(
    readonly code: ShaErrorCode,
    message: string,
    readonly detail: string[] = [],
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ShaError";
  }
}

/** Usual delay from merge to a published chart (747 binderhub publishes): median and p90, minutes. */
export const PUBLISH_DELAY = { medianMin: 7, p90Min: 20 } as const;

export interface ChartServiceOptions {
  config: Config;
  store: Store;
  log: Logger;
  now: () => Date;
  /** GitHub client; created from config.github on first use when absent. */
  octokit?: () => Octokit;
  /** Index fetch (tests). */
  fetch?: typeof fetch;
}

interface CommitInfo {
  sha: string;
  parents: string[];
  /** committer date, ISO */
  date: string;
  subject: string;
}

/** What the rule gives at one built commit (everything but the hash length). */
interface Computation {
  built: string;
  chartCommit: string;
  generation: Generation;
  chartpress: string;
  paths: string[];
  count: number | null;
  describe: { tag: string; since: number } | null;
  baseVersion: string | undefined;
  chartYamlVersion: string | undefined;
  long: boolean;
  /** Set when the latest tag, not a path change, made the chart commit. */
  viaTag: string | null;
  builtInfo: CommitInfo;
}

interface Runtime {
  cfg: ChartConfig;
  mirror: Mirror;
  index: ChartIndex;
  fp: { tip: string; pos: Map<string, number> } | null;
  tags: { key: number; byName: Map<string, string> } | null;
  tagBounds: { tip: string; key: number; bounds: Map<string, number> } | null;
  computed: Map<string, Computation>;
  commits: Map<string, CommitInfo>;
}

const MAX_CACHE = 5000;
/** How long an answer waits for the deploy pin before saying it is unknown. */
const PIN_WAIT_MS = 4000;
const short = (sha: string, n = 8) => sha.slice(0, n);

function remember<K, V>(m: Map<K, V>, k: K, v: V): V {
  if (m.size >= MAX_CACHE) m.delete(m.keys().next().value as K);
  m.set(k, v);
  return v;
}

/** The PR number named by a merge commit's subject ("Merge pull request #395 …", "… (#1877)"). */
export function prFromSubject(subject: string): number | null {
  const m = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return m ? Number(m[1]) : null;
}

/**
 * Answers "which chart version is this commit?" exactly as chartpress computed it, and whether and
 * when it was published. Nothing happens at construction: each chart's mirror is cloned, and the
 * scheduled fetch started, on first use.
 */
export class ChartService {
  readonly #opts: ChartServiceOptions;
  readonly #log: Logger;
  readonly #runtimes = new Map<string, Runtime>();
  #octokit: Octokit | null = null;
  #pins: PinReader | null = null;
  #cron: { stop(): void } | null = null;

  constructor(opts: ChartServiceOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: "charts" });
  }

  /** Configured chart names; the first is the default. */
  charts(): string[] {
    return this.#opts.config.charts.map((c) => c.name);
  }

  /** The chart's mirror (created, not cloned). For the benchmark and tests. */
  mirror(chart: string): Mirror {
    return this.#rt(chart).mirror;
  }

  /** The chart's index source. */
  index(chart: string): ChartIndex {
    return this.#rt(chart).index;
  }

  /** Stops the scheduled fetch and the git helper processes. */
  close(): void {
    this.#cron?.stop();
    this.#cron = null;
    for (const rt of this.#runtimes.values()) rt.mirror.git.close();
  }

  /** Fetches every mirror opened so far and refreshes their indexes (the scheduled job). */
  async refreshAll(): Promise<void> {
    await Promise.all(
      [...this.#runtimes.values()].map(async (rt) => {
        try {
          await rt.mirror.fetch();
        } catch (e) {
          this.#log.warn({ chart: rt.cfg.name, err: (e as Error).message }, "scheduled mirror fetch failed");
        }
        await rt.index.refresh().catch(() => {});
      }),
    );
  }

  #octo(): Octokit {
    if (this.#opts.octokit) return this.#opts.octokit();
    this.#octokit ??= createOctokit({
      apiUrl: this.#opts.config.github.apiUrl,
      ...(this.#opts.config.github.token ? { token: this.#opts.config.github.token } : {}),
      log: this.#log,
    });
    return this.#octokit;
  }

  #rt(chart: string): Runtime {
    const existing = this.#runtimes.get(chart);
    if (existing) return existing;
    const cfg = this.#opts.config.charts.find((c) => c.name === chart);
    if (!cfg) {
      throw new ShaError("unknown-chart", `There is no chart '${chart}' configured (charts: ${this.charts().join(", ")}).`);
    }
    const m = this.#opts.config.mirrors;
    const rt: Runtime = {
      cfg,
      mirror: new Mirror({
        name: cfg.name,
        url: cfg.git,
        dataDir: this.#opts.config.dataDir,
        log: this.#log,
        ...(cfg.branch ? { branch: cfg.branch } : {}),
        fetchTimeoutMs: m.fetchTimeoutSeconds * 1000,
        now: this.#opts.now,
      }),
      index: new ChartIndex({
        url: cfg.index,
        log: this.#log,
        store: this.#opts.store,
        now: this.#opts.now,
        ...(this.#opts.fetch ? { fetch: this.#opts.fetch } : {}),
      }),
      fp: null,
      tags: null,
      tagBounds: null,
      computed: new Map(),
      commits: new Map(),
    };
    this.#runtimes.set(chart, rt);
    this.#startSchedule();
    return rt;
  }

  #startSchedule(): void {
    const expr = this.#opts.config.mirrors.fetchCron;
    if (this.#cron || !expr) return;
    this.#cron = cron.schedule(expr, () => void this.refreshAll(), { name: "chart-mirrors", noOverlap: true });
  }

  /** The answer for a ref (undefined: the tip of the default branch), with the deploy pin. */
  async answer(chart: string, ref: UserRef | undefined, opts: { pin?: boolean } = {}): Promise<ShaAnswer> {
    const rt = this.#rt(chart);
    const pinP = opts.pin === false ? null : this.#readPin(chart);
    pinP?.catch(() => {});
    const [resolved, snap] = await Promise.all([this.#resolve(rt, ref), this.#snapshot(rt)]);
    const answer = await this.#answerFor(rt, resolved.commit, snap, resolved.pr);
    if (pinP) {
      // The pin is a side note: never let a slow GitHub hold the answer for long.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<{ version: null; error: string }>((ok) => {
        timer = setTimeout(() => ok({ version: null, error: "GitHub did not answer in time" }), PIN_WAIT_MS);
      });
      const p = await Promise.race([pinP, late]);
      clearTimeout(timer);
      answer.pin = this.#pinInfo(p, answer, snap);
    }
    return answer;
  }

  /** The answer for a full SHA already known to the mirror (no pin). */
  async answerCommit(chart: string, sha: string): Promise<ShaAnswer> {
    const rt = this.#rt(chart);
    const [commit, snap] = await Promise.all([this.#resolveSha(rt, sha), this.#snapshot(rt)]);
    return this.#answerFor(rt, commit, snap, null);
  }

  /**
   * For a pinned version missing from the index (or any version): which commit it names and which
   * version the person most likely meant.
   */
  async explainVersion(chart: string, version: string): Promise<VersionExplanation> {
    const rt = this.#rt(chart);
    const snap = await this.#snapshot(rt);
    const entry = snap?.byVersion(chart, version) ?? null;
    const parts = parseChartVersion(version);
    if (entry) {
      let sha: string | null = null;
      if (parts.sha) sha = await this.#resolveSha(rt, parts.sha).catch(() => null);
      return {
        published: entry,
        sha,
        kind: "published",
        correct: null,
        message: `${version} is published${entry.created ? ` (created ${entry.created})` : ""}.`,
      };
    }
    if (!parts.sha) {
      return {
        published: null,
        sha: null,
        kind: "no-sha",
        correct: null,
        message: `${version} is not in the chart index, and it names no commit (it has no hash in it).`,
      };
    }
    let commit: string;
    try {
      commit = await this.#resolveSha(rt, parts.sha);
    } catch (e) {
      const why = e instanceof ShaError ? e.message : (e as Error).message;
      return {
        published: null,
        sha: null,
        kind: "unknown-sha",
        correct: null,
        message: `${version} is not in the chart index: ${why}`,
      };
    }
    let answer: ShaAnswer;
    try {
      answer = await this.#answerFor(rt, commit, snap, null);
    } catch (e) {
      if (e instanceof ShaError && e.code === "not-merged") {
        return {
          published: null,
          sha: commit,
          kind: "pr-branch",
          correct: null,
          message: `${version} names ${short(commit)}, which is not merged into ${await rt.mirror.branch()}: no chart is built until it is merged.`,
        };
      }
      throw e;
    }
    const pub = answer.published
      ? `, published ${answer.publishedAt ?? ""}`.replace(/, published $/, ", published")
      : ", not published yet";
    if (answer.chartCommit !== commit) {
      const builtIsMerge = answer.builtCommit === commit && (await this.#commit(rt, commit)).parents.length > 1;
      const kind: VersionExplanation["kind"] =
        answer.relation === "pr-branch" ? "pr-branch" : builtIsMerge ? "merge-commit" : "not-chart-commit";
      const what =
        kind === "merge-commit"
          ? `the merge commit${answer.pr ? ` of #${answer.pr}` : ""}`
          : kind === "pr-branch"
            ? `a commit on the branch of ${answer.pr ? `#${answer.pr}` : "a PR"} (merged as ${short(answer.builtCommit)})`
            : "a commit that is not the chart commit";
      return {
        published: null,
        sha: commit,
        kind,
        correct: answer,
        message: `${version} names ${short(commit)}, ${what}; its chart is ${answer.version}${pub}.`,
      };
    }
    if (answer.published) {
      return {
        published: null,
        sha: commit,
        kind: "wrong-format",
        correct: answer,
        message: `${version} names the right commit (${short(commit)}), but the chart was published as ${answer.version}${pub}.`,
      };
    }
    return {
      published: null,
      sha: commit,
      kind: "not-published-yet",
      correct: answer,
      message: `${version} names the chart commit ${short(commit)}, but no chart for it is in the index yet (merged ${answer.minutesSinceMerge} min ago; publishing usually takes ~${PUBLISH_DELAY.medianMin} min, 90% within ${PUBLISH_DELAY.p90Min}).`,
    };
  }

  // ---------------------------------------------------------------- resolution

  async #resolve(rt: Runtime, ref: UserRef | undefined): Promise<{ commit: string; pr: number | null }> {
    await this.#ready(rt);
    if (!ref) {
      await this.#freshen(rt);
      return { commit: await rt.mirror.tip(), pr: null };
    }
    if (ref.kind === "sha") return { commit: await this.#resolveSha(rt, ref.sha), pr: null };
    if (ref.kind === "branch") return { commit: await this.#resolveBranch(rt, ref.name), pr: null };
    return { commit: await this.#resolvePr(rt, ref.number, ref.repo), pr: ref.number };
  }

  async #ready(rt: Runtime): Promise<void> {
    try {
      await rt.mirror.ready();
    } catch (e) {
      throw new ShaError("git", `Cannot clone ${rt.cfg.github} (${rt.cfg.name}): ${(e as Error).message}`);
    }
  }

  /** Fetches when the mirror is older than mirrors.maxAgeSeconds (for "latest" questions). */
  async #freshen(rt: Runtime): Promise<void> {
    const age = rt.mirror.lastFetch ? this.#opts.now().getTime() - rt.mirror.lastFetch.getTime() : Number.POSITIVE_INFINITY;
    if (age < this.#opts.config.mirrors.maxAgeSeconds * 1000) return;
    await this.#fetch(rt);
  }

  async #fetch(rt: Runtime): Promise<void> {
    try {
      await rt.mirror.fetch();
    } catch (e) {
      // Answer from what the mirror has; say so only if that is not enough.
      this.#log.warn({ chart: rt.cfg.name, err: (e as Error).message }, "mirror fetch failed");
      throw new ShaError("git", `Cannot fetch ${rt.cfg.github}: ${(e as Error).message}`);
    }
  }

  async #resolveSha(rt: Runtime, input: string): Promise<string> {
    await this.#ready(rt);
    const prefix = input.toLowerCase();
    if (!/^[0-9a-f]{7,40}$/.test(prefix)) throw new ShaError("unknown-ref", `'${input}' is not a commit hash.`);
    let found = await this.#candidates(rt, prefix);
    if (found.length === 0) {
      await this.#fetch(rt).catch((e) => {
        throw new ShaError("unknown-ref", `No commit ${prefix} in the mirror of ${rt.cfg.github}, and ${(e as Error).message}`);
      });
      found = await this.#candidates(rt, prefix);
    }
    if (found.length === 0) {
      throw new ShaError(
        "unknown-ref",
        `No commit ${prefix} in ${rt.cfg.github} (not on any branch or tag, even after a fetch).`,
      );
    }
    if (found.length > 1) {
      const infos = await Promise.all(found.slice(0, 10).map((s) => this.#commit(rt, s)));
      throw new ShaError(
        "ambiguous",
        `${prefix} is ambiguous in ${rt.cfg.github}: ${found.length} commits start with it; give more characters.`,
        infos.map((c) => `${short(c.sha, 12)} ${c.date.slice(0, 10)} ${c.subject.slice(0, 60)}`),
        { candidates: found },
      );
    }
    return found[0] as string;
  }

  /** Commits whose SHA starts with `prefix`. */
  async #candidates(rt: Runtime, prefix: string): Promise<string[]> {
    const git = rt.mirror.git;
    if (isFullSha(prefix)) return (await git.objectType(prefix)) === "commit" ? [prefix] : [];
    // A unique prefix resolves in the cat-file helper without a process start; "missing" or
    // "ambiguous" (two commits) goes to --disambiguate, which lists every candidate.
    const direct = await git.objectId(`${prefix}^{commit}`).catch(() => null);
    if (direct?.type === "commit" && isFullSha(direct.oid)) return [direct.oid];
    return this.#disambiguate(rt, prefix);
  }

  async #disambiguate(rt: Runtime, prefix: string): Promise<string[]> {
    const git = rt.mirror.git;
    const r = await git.run(["rev-parse", `--disambiguate=${prefix}`], { okCodes: [1, 128] });
    const oids = r.stdout.split("\n").filter((l) => isFullSha(l));
    const types = await Promise.all(oids.map((o) => git.objectType(o)));
    return oids.filter((_, i) => types[i] === "commit");
  }

  async #resolveBranch(rt: Runtime, name: string): Promise<string> {
    const git = rt.mirror.git;
    const lookup = async () => {
      for (const ref of [`refs/heads/${name}`, `refs/tags/${name}`]) {
        const r = await git.run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], {
          okCodes: [1, 128],
        });
        const sha = r.stdout.trim();
        if (r.code === 0 && isFullSha(sha)) return sha;
      }
      return null;
    };
    // A branch moves: fetch first when the mirror is not fresh.
    await this.#freshen(rt).catch(() => {});
    const sha = await lookup();
    if (sha) return sha;
    throw new ShaError("unknown-ref", `There is no branch or tag '${name}' in ${rt.cfg.github}.`);
  }

  async #resolvePr(rt: Runtime, number: number, repo?: string): Promise<string> {
    if (repo && repo.toLowerCase() !== rt.cfg.github.toLowerCase()) {
      throw new ShaError("unknown-ref", `That PR is in ${repo}, but the ${rt.cfg.name} chart is built from ${rt.cfg.github}.`);
    }
    const [owner, name] = rt.cfg.github.split("/") as [string, string];
    let pr: { merged?: boolean; merge_commit_sha?: string | null; state?: string; title?: string };
    try {
      pr = (await this.#octo().pulls.get({ owner, repo: name, pull_number: number })).data;
    } catch (e) {
      throw new ShaError("github", githubErrorLine(e, `PR #${number} of ${rt.cfg.github}`));
    }
    if (!pr.merged || !pr.merge_commit_sha) {
      const state = pr.state === "closed" ? "was closed without being merged" : "is not merged yet";
      throw new ShaError(
        "pr-not-merged",
        `PR #${number} ${state}: there is no chart for it${pr.state === "closed" ? "" : " until it is merged"}.`,
        [],
        { pr: number, state: pr.state ?? null },
      );
    }
    const sha = pr.merge_commit_sha.toLowerCase();
    if (!(await rt.mirror.hasCommit(sha))) await this.#fetch(rt);
    if (!(await rt.mirror.hasCommit(sha))) {
      throw new ShaError(
        "unknown-ref",
        `PR #${number} was merged as ${short(sha)}, but that commit is not in ${rt.cfg.github} yet.`,
      );
    }
    return sha;
  }

  // ---------------------------------------------------------------- the rule

  async #commit(rt: Runtime, sha: string): Promise<CommitInfo> {
    const hit = rt.commits.get(sha);
    if (hit) return hit;
    const text = await rt.mirror.git.readCommit(sha);
    if (text === null) throw new ShaError("unknown-ref", `No commit ${sha} in ${rt.cfg.github}.`);
    const nl = text.indexOf("\n\n");
    const head = nl < 0 ? text : text.slice(0, nl);
    const parents: string[] = [];
    let date = "";
    for (const line of head.split("\n")) {
      if (line.startsWith("parent ")) parents.push(line.slice(7).trim());
      else if (line.startsWith("committer ")) {
        const m = / (\d+) ([+-]\d{4})$/.exec(line);
        if (m) date = new Date(Number(m[1]) * 1000).toISOString();
      }
    }
    const subject = nl < 0 ? "" : (text.slice(nl + 2).split("\n")[0] ?? "");
    return remember(rt.commits, sha, { sha, parents, date, subject });
  }

  async #firstParents(rt: Runtime, tip: string): Promise<Map<string, number>> {
    if (rt.fp?.tip === tip) return rt.fp.pos;
    const out = await rt.mirror.git.out(["rev-list", "--first-parent", "--end-of-options", tip]);
    const pos = new Map<string, number>();
    out.split("\n").forEach((s, i) => {
      if (s) pos.set(s, i);
    });
    rt.fp = { tip, pos };
    return pos;
  }

  async #tags(rt: Runtime): Promise<Map<string, string>> {
    if (rt.tags?.key === rt.mirror.fetchCount) return rt.tags.byName;
    const out = await rt.mirror.git.out([
      "for-each-ref",
      "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)",
      "refs/tags",
    ]);
    const byName = new Map<string, string>();
    for (const line of out.split("\n")) {
      const [name, obj, peeled] = line.split("\0");
      if (name && obj) byName.set(name, peeled || obj);
    }
    if (rt.tags && rt.tags.byName.size !== byName.size) rt.computed.clear();
    rt.tags = { key: rt.mirror.fetchCount, byName };
    return byName;
  }

  /** The default-branch commit CI built for `sha`: itself, or the first one that contains it. */
  async #builtFor(rt: Runtime, sha: string): Promise<{ built: string; onFirstParent: boolean }> {
    const git = rt.mirror.git;
    const locate = async () => {
      const tip = await rt.mirror.tip();
      const pos = await this.#firstParents(rt, tip);
      if (pos.has(sha)) return { built: sha, onFirstParent: true };
      const anc = await git.run(["merge-base", "--is-ancestor", "--end-of-options", sha, tip], { okCodes: [1] });
      if (anc.code !== 0) return null;
      const desc = await git.out(["rev-list", "--ancestry-path", "--end-of-options", `${sha}..${tip}`]);
      let best: string | null = null;
      let bestPos = -1;
      for (const c of desc.split("\n")) {
        const p = pos.get(c);
        if (p !== undefined && p > bestPos) {
          bestPos = p;
          best = c;
        }
      }
      return best ? { built: best, onFirstParent: false } : null;
    };
    let r = await locate();
    if (!r) {
      // Maybe merged since the last fetch.
      await this.#fetch(rt).catch(() => {});
      r = await locate();
    }
    if (!r) {
      const branch = await rt.mirror.branch();
      const out = await git.out(["for-each-ref", "--contains", sha, "--format=%(refname:strip=2)", "refs/heads"]);
      const on = out.split("\n").filter(Boolean);
      throw new ShaError(
        "not-merged",
        `${short(sha)} is not merged into ${branch}${on.length ? ` (it is on ${on.slice(0, 3).join(", ")})` : ""}: there is no chart for it until it is merged.`,
        [],
        { commit: sha, branches: on },
      );
    }
    return r;
  }

  /**
   * For each tag commit, the oldest position on the default branch's first-parent chain that
   * contains it (positions count from the tip; every newer first-parent commit contains it too).
   * Tags not in the default branch's history are left out.
   */
  async #tagBounds(rt: Runtime, pos: Map<string, number>): Promise<Map<string, number>> {
    const tip = rt.fp?.tip ?? "";
    if (rt.tagBounds?.tip === tip && rt.tagBounds.key === rt.tags?.key) return rt.tagBounds.bounds;
    const tags = await this.#tags(rt);
    const bounds = new Map<string, number>();
    for (const commit of new Set(tags.values())) {
      const p = pos.get(commit);
      if (p !== undefined) {
        bounds.set(commit, p);
        continue;
      }
      const anc = await rt.mirror.git.run(["merge-base", "--is-ancestor", "--end-of-options", commit, tip], { okCodes: [1] });
      if (anc.code !== 0) continue;
      const desc = await rt.mirror.git.out(["rev-list", "--ancestry-path", "--end-of-options", `${commit}..${tip}`]);
      let best = -1;
      for (const c of desc.split("\n")) {
        const q = pos.get(c);
        if (q !== undefined && q > best) best = q;
      }
      if (best >= 0) bounds.set(commit, best);
    }
    rt.tagBounds = { tip, key: rt.tags?.key ?? -1, bounds };
    return bounds;
  }

  /** `git describe --tags` of a first-parent commit: the tag it would name, and its commit. */
  async #latestTag(rt: Runtime, built: string, pos: Map<string, number>): Promise<{ tag: string; commit: string } | null> {
    const tags = await this.#tags(rt);
    const pb = pos.get(built);
    if (pb !== undefined) {
      const bounds = await this.#tagBounds(rt, pos);
      let best: string | null = null;
      let bestBound = Number.POSITIVE_INFINITY;
      let tie = false;
      for (const [, commit] of tags) {
        const b = bounds.get(commit);
        if (b === undefined || b < pb) continue;
        if (b < bestBound) {
          bestBound = b;
          best = commit;
          tie = false;
        } else if (b === bestBound && commit !== best) tie = true;
      }
      if (!best) return null;
      const names = [...tags].filter(([, c]) => c === best).map(([n]) => n);
      if (!tie && names.length === 1) return { tag: names[0] as string, commit: best };
    }
    const d = await this.#describe(rt, built);
    if (!d) return null;
    const commit = tags.get(d.tag);
    return commit ? { tag: d.tag, commit } : null;
  }

  async #describe(rt: Runtime, sha: string): Promise<{ tag: string; since: number } | null> {
    const r = await rt.mirror.git.run(["describe", "--tags", "--long", "--abbrev=40", "--end-of-options", sha], {
      okCodes: [128],
    });
    if (r.code !== 0) return null;
    const m = /^(.*)-(\d+)-g[0-9a-f]{40}$/.exec(r.stdout.trim());
    return m ? { tag: m[1] as string, since: Number(m[2]) } : null;
  }

  async #count(rt: Runtime, sha: string): Promise<number> {
    return Number(await rt.mirror.git.out(["rev-list", "--count", "--end-of-options", sha]));
  }

  /** The rule at built commit B: chart commit, count/describe, generation. Cached: history is immutable. */
  async #compute(rt: Runtime, built: string): Promise<Computation> {
    const tags = await this.#tags(rt);
    const hit = rt.computed.get(built);
    if (hit) return hit;
    const git = rt.mirror.git;
    const chartDir = rt.cfg.chartDir.replace(/\/+$/, "");
    const [info, text] = await Promise.all([this.#commit(rt, built), readChartpressYaml(git, built, chartDir)]);
    if (text === null) {
      throw new ShaError(
        "no-chartpress",
        `There is no ${chartDir}/chartpress.yaml at ${short(built)}: chartpress built no ${rt.cfg.name} chart from that commit.`,
      );
    }
    let cp: ReturnType<typeof parseChartpressYaml>;
    try {
      cp = parseChartpressYaml(text, rt.cfg.name);
    } catch (e) {
      if (e instanceof ChartpressConfigError) throw new ShaError("no-chartpress", `At ${short(built)}: ${e.message}.`);
      throw e;
    }
    const pin = await detectChartpress(git, built, chartDir, info.date);
    const gen = pin.generation;
    const paths = toRepoPaths(chartDir, chartpressPaths(gen, cp)).filter((p) => !p.startsWith(":"));
    const useTags = gen >= 1 && tags.size > 0;
    const pos = useTags ? await this.#firstParents(rt, await rt.mirror.tip()) : null;
    // chartpress: the latest tag reachable from the built commit (`git describe --tags` of HEAD),
    // found from each tag's first-parent boundary without a process when that is unambiguous.
    const headTagP: Promise<{ tag: string; commit: string } | null> = useTags
      ? this.#latestTag(rt, built, pos!)
      : Promise.resolve(null);
    const needCount = gen === 5 || (gen > 0 && !useTags);
    const logP = git.out(["log", "-n1", "--format=%H", "--end-of-options", built, "--", ...paths]);
    // Started while `git log` runs, told which commit to count once it has found it.
    const counter = needCount ? git.pending(["rev-list", "--count", "--stdin"]) : null;
    let mod: string;
    let headTag: { tag: string; commit: string } | null;
    try {
      [mod, headTag] = await Promise.all([logP, headTagP]);
    } catch (e) {
      counter?.cancel();
      throw e;
    }
    if (!isFullSha(mod)) {
      counter?.cancel();
      throw new ShaError("no-chartpress", `No commit up to ${short(built)} touches the chart paths (${paths.join(", ")}).`);
    }
    let chartCommit = mod;
    let viaTag: string | null = null;
    // Without baseVersion, or before chartpress 2, the version needs `git describe` of the chart commit.
    const needDescribe = useTags && !(gen === 5 && cp.baseVersion);
    const tagAncestor = async (): Promise<boolean> => {
      if (!headTag || headTag.commit === mod) return true;
      const bounds = await this.#tagBounds(rt, pos!);
      const pm = pos!.get(mod);
      const b = bounds.get(headTag.commit);
      if (pm !== undefined && b !== undefined) return pm <= b;
      const r = await git.run(["merge-base", "--is-ancestor", "--end-of-options", headTag.commit, mod], { okCodes: [1] });
      return r.code === 0;
    };
    const [ancestor, count0, desc0] = await Promise.all([
      tagAncestor(),
      counter ? counter.send(`${mod}\n`).then(Number) : Promise.resolve(null),
      needDescribe ? this.#describe(rt, mod) : Promise.resolve(null),
    ]);
    let count = count0;
    let describe = desc0;
    if (headTag && !ancestor) {
      chartCommit = headTag.commit;
      viaTag = headTag.tag;
      [count, describe] = await Promise.all([
        needCount ? this.#count(rt, chartCommit) : Promise.resolve(null),
        needDescribe ? this.#describe(rt, chartCommit) : Promise.resolve(null),
      ]);
    }
    if (useTags && !needDescribe) {
      // baseVersion is used unless the chart commit itself is tagged (describe distance 0).
      const names = [...tags].filter(([, c]) => c === chartCommit).map(([n]) => n);
      describe = names.length ? { tag: names.sort()[0] as string, since: 0 } : null;
      if (names.length > 1) describe = await this.#describe(rt, chartCommit);
    }
    let chartYamlVersion: string | undefined;
    if (gen === 0) {
      const cy = await git.readFile(built, `${chartDir}/${cp.name}/Chart.yaml`);
      const v = cy ? (yaml.load(cy) as { version?: unknown } | null)?.version : undefined;
      chartYamlVersion = v === undefined || v === null ? undefined : String(v);
    }
    const result: Computation = {
      built,
      chartCommit,
      generation: gen,
      chartpress: pin.spec ? `${GENERATION_LABEL[gen]} (${pin.spec}${pin.file ? ` in ${pin.file}` : ""})` : GENERATION_LABEL[gen],
      paths,
      count,
      describe,
      baseVersion: cp.baseVersion,
      chartYamlVersion,
      long: pin.long,
      viaTag,
      builtInfo: info,
    };
    return remember(rt.computed, built, result);
  }

  /** Whether two commits have the same content under the pathspecs (git's TREESAME). */
  async #sameOnPaths(rt: Runtime, a: string, b: string, paths: string[]): Promise<boolean> {
    const git = rt.mirror.git;
    if (paths.some((p) => /[*?[\]\\:]/.test(p))) {
      const r = await git.run(["diff-tree", "--quiet", "-r", "--end-of-options", a, b, "--", ...paths], { okCodes: [1] });
      return r.code === 0;
    }
    const pairs = await Promise.all(paths.map((p) => Promise.all([git.pathOid(a, p), git.pathOid(b, p)])));
    return pairs.every(([x, y]) => (x?.oid ?? null) === (y?.oid ?? null));
  }

  async #snapshot(rt: Runtime): Promise<IndexSnapshot | null> {
    try {
      return await rt.index.get();
    } catch (e) {
      this.#log.warn({ chart: rt.cfg.name, err: (e as Error).message }, "chart index unavailable");
      return null;
    }
  }

  async #answerFor(rt: Runtime, commit: string, snap: IndexSnapshot | null, askedPr: number | null): Promise<ShaAnswer> {
    const { built, onFirstParent } = await this.#builtFor(rt, commit);
    const c = await this.#compute(rt, built);
    const name = rt.cfg.name;
    const builtInfo = c.builtInfo;
    const pr = askedPr ?? prFromSubject(builtInfo.subject);

    // The published entry for the chart commit, whatever its format; else predict.
    const inputs = {
      generation: c.generation,
      chartCommit: c.chartCommit,
      count: c.count ?? 0,
      describe: c.describe,
      baseVersion: c.baseVersion,
      chartYamlVersion: c.chartYamlVersion,
      long: c.long,
    };
    const hits = snap ? snap.bySha(name, c.chartCommit) : [];
    let entry: IndexEntry | null = null;
    if (hits.length) {
      const exact = hits.find((h) => h.sha && chartVersion({ ...inputs, hashLength: h.sha.length }) === h.version);
      entry =
        exact ?? [...hits].sort((a, b) => (Date.parse(b.created ?? "") || 0) - (Date.parse(a.created ?? "") || 0))[0] ?? null;
    }
    const hashLength = entry?.sha?.length ?? predictHashLength(snap, name, builtInfo.date);
    const computed = chartVersion({ ...inputs, hashLength });
    const version = entry ? entry.version : computed;

    // Why the chart commit is what it is.
    let relation: ShaRelation;
    let reason: string;
    const h = (s: string) => short(s, hashLength);
    const prText = pr ? ` (#${pr})` : "";
    if (c.viaTag && c.chartCommit === commit) {
      relation = "tag";
      reason = `${h(commit)} carries the tag ${c.viaTag}, newer than the last change to the chart paths: chartpress takes the tag.`;
    } else if (c.chartCommit === commit) {
      relation = "chart-commit";
      reason = onFirstParent
        ? `${h(commit)} is itself the last commit that changed the chart paths.`
        : `${h(commit)} is a PR-branch commit; CI built its merge ${h(built)}${prText}, whose chart commit is ${h(commit)} itself.`;
    } else if (!onFirstParent) {
      relation = "pr-branch";
      reason = `${h(commit)} is a commit on a PR branch; CI never built it alone. It was merged by ${h(built)}${prText}, and the chart built there is from ${h(c.chartCommit)}, the last commit that changed the chart paths.`;
    } else if (c.viaTag) {
      relation = "tag";
      reason = `chartpress took the tag ${c.viaTag} (on ${h(c.chartCommit)}), newer than the last change to the chart paths.`;
    } else {
      const parents = builtInfo.parents;
      let same = -1;
      if (parents.length > 1) {
        for (let i = 0; i < parents.length; i++) {
          if (await this.#sameOnPaths(rt, parents[i] as string, commit, c.paths)) {
            same = i;
            break;
          }
        }
      }
      if (same >= 1) {
        relation = "merge-same-as-parent";
        reason = `${h(commit)} is a merge${prText} whose chart paths are identical to its parent ${h(parents[same] as string)} (the PR's last commit), so git follows that parent: the chart commit is ${h(c.chartCommit)}, not the merge.`;
      } else if (same === 0) {
        relation = "outside-chart-paths";
        reason = `${h(commit)} is a merge${prText} that changed nothing under the chart paths; the chart is still the one from ${h(c.chartCommit)}.`;
      } else {
        relation = "outside-chart-paths";
        reason = `${h(commit)} changed only files outside the chart paths; the chart is still the one from ${h(c.chartCommit)}, the last commit that changed them.`;
      }
    }

    const minutesSinceMerge = Math.max(0, Math.floor((this.#opts.now().getTime() - Date.parse(builtInfo.date)) / 60_000));
    return {
      chart: name,
      commit,
      builtCommit: built,
      chartCommit: c.chartCommit,
      relation,
      reason,
      pr,
      version,
      computed,
      published: entry !== null,
      publishedAt: entry?.created ?? null,
      entry,
      chartpress: c.chartpress,
      paths: c.paths,
      mergedAt: builtInfo.date,
      minutesSinceMerge,
      hashLength,
      index: {
        source: rt.index.source,
        fetchedAt: snap ? snap.fetchedAt.toISOString() : null,
        stale: snap ? snap.stale : true,
        error: snap ? snap.error : "no copy of the index",
      },
      pin: null,
    };
  }

  // ---------------------------------------------------------------- the deploy pin

  async #readPin(chart: string): Promise<{ version: string | null; error: string | null }> {
    const d = this.#opts.config.deploy;
    this.#pins ??= new PinReader(() => this.#octo());
    try {
      const p = await this.#pins.read({ repo: d.github, file: d.chartFile, branch: d.branch }, chart);
      return { version: p.version, error: p.version === null ? `${d.chartFile} has no ${chart} dependency` : null };
    } catch (e) {
      return { version: null, error: e instanceof PinError ? e.message : githubErrorLine(e) };
    }
  }

  #pinInfo(p: { version: string | null; error: string | null }, a: ShaAnswer, snap: IndexSnapshot | null): PinInfo {
    const d = this.#opts.config.deploy;
    return {
      repo: d.github,
      file: d.chartFile,
      branch: d.branch,
      pinned: p.version,
      line: pinLine(a.version),
      behind: p.version && snap ? versionsBetween(snap, a.chart, p.version, a) : null,
      error: p.error,
    };
  }

  /** Registers "tell this room when <version> is published" (the notifier comes with its own issue). */
  async addWaiter(
    a: ShaAnswer,
    who: { platform: string; room: string; userId: string; displayName?: string; thread?: string },
  ): Promise<string> {
    const key = `waiter:${a.chart}:${a.version}:${who.platform}:${who.room}`;
    await this.#opts.store.update<Record<string, unknown>>(
      key,
      (cur) => ({
        chart: a.chart,
        version: a.version,
        chartCommit: a.chartCommit,
        commit: a.commit,
        platform: who.platform,
        room: who.room,
        thread: who.thread ?? null,
        who: [...new Set([...(((cur?.who as string[]) ?? []) as string[]), who.userId])],
        by: who.displayName ?? who.userId,
        at: this.#opts.now().toISOString(),
        mergedAt: a.mergedAt,
      }),
      7 * 24 * 3600 * 1000,
    );
    return key;
  }
}

/**
 * The hash length CI's `%h` had when `date`'s commit was built: that of the first entry published
 * at or after that time; for a commit newer than every entry, the newest entries' length.
 */
export function predictHashLength(snap: IndexSnapshot | null, chart: string, date: string): number {
  if (!snap) return 7;
  const t = Date.parse(date);
  const list = snap.versions(chart); // newest created first
  let candidate: number | null = null;
  for (const e of list) {
    if (!e.sha || !e.created) continue;
    const c = Date.parse(e.created);
    if (Number.isNaN(c)) continue;
    if (c >= t) candidate = e.sha.length;
    else break;
  }
  return candidate ?? snap.newestHashLength(chart) ?? 7;
}

/** Published versions created after the pin, up to and including the answer (see PinInfo.behind). */
export function versionsBetween(snap: IndexSnapshot, chart: string, pinned: string, a: ShaAnswer): number | null {
  if (pinned === a.version) return 0;
  const p = snap.byVersion(chart, pinned);
  if (!p?.created) return null;
  const from = Date.parse(p.created);
  const to = a.publishedAt ? Date.parse(a.publishedAt) : Number.POSITIVE_INFINITY;
  const list = snap.versions(chart);
  const seen = new Set<string>();
  if (to < from) {
    for (const e of list) {
      const c = Date.parse(e.created ?? "");
      if (c > to && c <= from) seen.add(e.version);
    }
    return -seen.size;
  }
  for (const e of list) {
    const c = Date.parse(e.created ?? "");
    if (c > from && c <= to) seen.add(e.version);
  }
  return seen.size + (a.published ? 0 : 1);
}

export { formatAge, GitError };
