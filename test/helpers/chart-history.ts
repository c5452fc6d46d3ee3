import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChartService } from "../../src/charts/answer/service.ts";
import { parseConfig } from "../../src/config/load.ts";
import { openStore } from "../../src/store/store.ts";
import { silentLogger } from "./log.ts";

/**
 * The real-history check for any chartpress chart: every version the chart index ever published
 * for `chart`, compared with what the rule gives for the build that made it. Used by
 * test/sha-real*.test.ts and bench/sha-history.ts.
 *
 * A version with a hash names its chart commit C. It is *exact* when the rule reproduces it, with
 * the hash length the bot predicts, for a build that made C its chart: a default-branch build whose
 * chart commit is C (C's own build, or a later one that changed nothing in the chart paths), or a
 * build of C itself pushed to another branch (2017's CI published every branch push). A version
 * without a hash is a release (tag) build: exact when the tag is in the repository.
 */

export interface EraCount {
  era: string;
  total: number;
  exact: number;
  /** Versions naming a commit that is not in the repository (a branch deleted unmerged). */
  gone: number;
  wrong: string[];
}

export interface HistoryReport {
  chart: string;
  eras: EraCount[];
  /** Default-branch commits up to the index's newest entry. */
  firstParent: number;
  /** With walkDefaultBranch: distinct chart commits of those builds that are in the index, and how many give exactly it. */
  publishedChartCommits: number;
  publishedExact: number;
  /** Default-branch builds whose published answer is not what the rule gives for them. */
  answerDiffers: string[];
}

/** The era a published version's format belongs to (with its hash length). */
export function eraOf(version: string): string {
  const hex = /([0-9a-f]{7,12})$/.exec(version)?.[1];
  const h = hex ? `, ${hex.length}-digit hash` : "";
  if (/\.git\.\d+\.h[0-9a-f]{7,}$/.test(version)) return `chartpress >= 2: <base>.git.<count>.h<sha>${h}`;
  if (/[-.]n\d{3,}\.h[0-9a-f]{7,}$/.test(version)) return `chartpress 0.6 - 1.x: <tag>-n<NNN>.h<sha>${h}`;
  if (/[-.]\d{3,}\.[0-9a-f]{7,}$/.test(version)) return `chartpress 0.4 - 0.5: <tag>-<NNN>.<sha>${h}`;
  if (/^v?\d+(\.\d+)*-[0-9a-f]{7,}$/.test(version)) return `build.py, chartpress < 0.4: <Chart.yaml version>-<sha>${h}`;
  if (hex) return `other${h}`;
  return "release (tag) builds: <tag>";
}

export async function checkPublishedHistory(opts: {
  chart: string;
  github: string;
  gitDir: string;
  index: string;
  branch?: string;
  /** Check only these published versions (the test: a sample of every era); all when absent. */
  only?: (version: string, i: number) => boolean;
  /** Also answer every default-branch commit (the bench): fills publishedChartCommits, answerDiffers. */
  walkDefaultBranch?: boolean;
  onProgress?: (done: number, total: number) => void;
}): Promise<HistoryReport> {
  const dataDir = mkdtempSync(join(tmpdir(), "binderbot-history-"));
  const { config } = parseConfig(
    [
      "store: memory",
      `dataDir: ${dataDir}`,
      'mirrors: { fetchCron: "" }',
      "charts:",
      `  - name: ${opts.chart}`,
      `    github: ${opts.github}`,
      `    git: ${opts.gitDir}`,
      `    index: ${opts.index}`,
      `    branch: ${opts.branch ?? "main"}`,
      "deploy:",
      "  github: jupyterhub/mybinder.org-deploy",
      "",
    ].join("\n"),
    "history.yaml",
    {},
  );
  const svc = new ChartService({ config, store: await openStore("memory", "."), log: silentLogger(), now: () => new Date() });
  const git = (args: string[]) => execFileSync("git", ["--git-dir", opts.gitDir, ...args], { encoding: "utf8" }).trim();
  try {
    const snap = await svc.index(opts.chart).get();
    const entries = snap.versions(opts.chart);
    const newest =
      entries
        .map((e) => e.created ?? "")
        .sort()
        .at(-1) ?? new Date().toISOString();
    const shas = git(["rev-list", "--first-parent", `--before=${newest}`, opts.branch ?? "main"]).split("\n");
    const fpIndex = new Map(shas.map((s, i) => [s, i]));

    // Default-branch builds: chart commit → the versions the rule gives for its builds.
    const byChartCommit = new Map<string, Set<string>>();
    const published = new Map<string, boolean>();
    const answerDiffers: string[] = [];
    const answered = new Map<string, string | null>(); // built → chart commit (null: no chart)
    const answerAt = async (s: string): Promise<string | null> => {
      if (answered.has(s)) return answered.get(s) ?? null;
      let chartCommit: string | null = null;
      try {
        const a = await svc.answerCommit(opts.chart, s);
        chartCommit = a.chartCommit;
        const set = byChartCommit.get(a.chartCommit) ?? new Set<string>();
        set.add(a.computed);
        byChartCommit.set(a.chartCommit, set);
        if (a.published) {
          published.set(a.chartCommit, (published.get(a.chartCommit) ?? false) || a.computed === a.version);
          if (a.computed !== a.version) answerDiffers.push(`${s.slice(0, 10)}: published ${a.version}, rule ${a.computed}`);
        }
      } catch {
        // no chart at that commit (before the chart existed): not a published version
      }
      answered.set(s, chartCommit);
      return chartCommit;
    };
    if (opts.walkDefaultBranch) {
      let done = 0;
      for (const s of shas) {
        opts.onProgress?.(++done, shas.length);
        await answerAt(s);
      }
    }

    const tags = new Set(git(["tag", "--list"]).split("\n"));
    const eras = new Map<string, EraCount>();
    const oldestFirst = [...entries].reverse();
    const checked = oldestFirst.filter((e, i) => !opts.only || opts.only(e.version, i));
    const commitOf = resolveCommits(
      opts.gitDir,
      checked.flatMap((e) => (e.sha ? [e.sha] : [])),
    );
    for (const [i, e] of oldestFirst.entries()) {
      if (opts.only && !opts.only(e.version, i)) continue;
      const era = eraOf(e.version);
      const row = eras.get(era) ?? { era, total: 0, exact: 0, gone: 0, wrong: [] };
      eras.set(era, row);
      row.total++;
      if (!e.sha) {
        if (tags.has(e.version) || tags.has(`v${e.version}`)) row.exact++;
        else row.wrong.push(`${e.version} (no such tag)`);
        continue;
      }
      const commit = commitOf.get(e.sha);
      if (commit === undefined) {
        row.gone++;
        continue;
      }
      if (byChartCommit.get(commit)?.has(e.version)) {
        row.exact++;
        continue;
      }
      const own = await svc.buildOfCommit(opts.chart, commit).catch((err: Error) => ({ computed: `error: ${err.message}` }));
      if (own.computed === e.version) {
        row.exact++;
        continue;
      }
      // A later default-branch build that changed nothing in the chart paths (after the one that
      // merged the commit, when it came from a branch).
      const builtBy = fpIndex.has(commit)
        ? commit
        : await svc.answerCommit(opts.chart, commit).then(
            (a) => a.builtCommit,
            () => null,
          );
      const at = builtBy === null ? undefined : fpIndex.get(builtBy);
      let later = false;
      for (let i = at ?? -1; at !== undefined && i >= 0 && i >= at - 50; i--) {
        // The merging build itself may have another chart commit (a tag made after it); later ones
        // count while they keep this one.
        const chartCommit = await answerAt(shas[i] as string);
        if (byChartCommit.get(commit)?.has(e.version)) {
          later = true;
          break;
        }
        if (i < at && chartCommit !== commit) break;
      }
      if (later) row.exact++;
      else row.wrong.push(`${e.version}: rule ${own.computed}`);
    }
    const order = [...eras.values()].sort((a, b) => a.era.localeCompare(b.era));
    return {
      chart: opts.chart,
      eras: order,
      firstParent: shas.length,
      publishedChartCommits: published.size,
      publishedExact: [...published.values()].filter(Boolean).length,
      answerDiffers,
    };
  } finally {
    svc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The commit each (abbreviated) hash names, for all of them in one `git cat-file --batch-check` (one
 * process instead of a `rev-parse --verify` each); a hash that is missing, ambiguous or not a commit
 * has no entry.
 */
function resolveCommits(gitDir: string, hashes: string[]): Map<string, string> {
  const unique = [...new Set(hashes)];
  const out = execFileSync("git", ["--git-dir", gitDir, "cat-file", "--batch-check=%(objectname) %(objecttype)"], {
    input: unique.map((h) => `${h}^{commit}\n`).join(""),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  }).split("\n");
  const found = new Map<string, string>();
  for (const [i, h] of unique.entries()) {
    const [name, type] = (out[i] ?? "").split(" ");
    if (type === "commit" && name) found.set(h, name);
  }
  return found;
}

/** The report as the Markdown table docs/sha.md shows. */
export function historyTable(r: HistoryReport): string {
  const lines = ["| era (format of the published version) | published | exact | commit gone | wrong |", "|---|---|---|---|---|"];
  let t = 0;
  let x = 0;
  let g = 0;
  let w = 0;
  for (const e of r.eras) {
    lines.push(`| ${e.era} | ${e.total} | ${e.exact} | ${e.gone} | ${e.wrong.length} |`);
    t += e.total;
    x += e.exact;
    g += e.gone;
    w += e.wrong.length;
  }
  lines.push(`| **all** | **${t}** | **${x}** | **${g}** | **${w}** |`);
  return lines.join("\n");
}
