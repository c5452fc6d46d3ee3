import yaml from "js-yaml";
import type { ChartConfig } from "../../config/schema.ts";
import { ShaError } from "../errors.ts";
import { remember } from "../git/bounded.ts";
import { isFullSha } from "../git/git.ts";
import { type CommitInfo, type HistoryView, tagsAt } from "../git/history.ts";
import { commitInfo, type Repo } from "../git/repo.ts";
import {
  ChartpressConfigError,
  type ChartpressPin,
  chartpressPaths,
  detectChartpress,
  type Generation,
  parseChartpressYaml,
  readChartpressYaml,
  toRepoPaths,
} from "./chartpress.ts";
import { legacyChartPaths } from "./legacy-build-py.ts";
import { locateChartpress, normalizeDir } from "./locate.ts";

/** How long after a build a tag may have been pushed together with the built commit. */
const LATE_TAG_MS = 60 * 60 * 1000;

/**
 * What built the chart at a commit: chartpress of a generation (pinned as `spec` in `file`, when a
 * pin was found), or before chartpress.yaml existed the vendored `script`.
 */
export interface Builder {
  generation: Generation;
  spec: string | null;
  file: string | null;
  /** The pre-chartpress build script (e.g. helm-chart/build.py), else null. */
  script: string | null;
}

/** What the rule gives at one built commit (everything but the hash length). */
export interface Computation {
  built: string;
  chartCommit: string;
  generation: Generation;
  /** What built the chart at this commit. */
  builder: Builder;
  paths: string[];
  count: number | null;
  describe: { tag: string; since: number } | null;
  baseVersion: string | undefined;
  chartYamlVersion: string | undefined;
  long: boolean;
  /**
   * Tags created within the hour after the build: whether CI saw them depends on when they were
   * pushed, so the answer also tries the rule with them (computeAt's `withLateTags`).
   */
  lateTags: string[];
  /** Set when the latest tag, not a path change, made the chart commit. */
  viaTag: string | null;
  builtInfo: CommitInfo;
}

/**
 * The chartpress rule of one chart, and the cache of its results: by built commit and by the tag set
 * they were computed with (history is immutable; only the tags can change what a commit gets).
 */
export class ChartRule {
  readonly #computed = new Map<string, Computation>();

  constructor(
    readonly repo: Repo,
    readonly cfg: Pick<ChartConfig, "name" | "chartpressDir">,
  ) {}

  /**
   * The rule at built commit B, as the chartpress of B's era ran it: the chart commit
   * (`git log -n1 -- <paths>`, or the latest tag when newer), and the count/describe its version
   * needs. Tags, positions and tag bounds all come from `view`.
   */
  async computeAt(view: HistoryView, built: string, withLateTags = false): Promise<Computation> {
    const key = `${view.tags.id}:${built}${withLateTags ? "+late" : ""}`;
    const hit = this.#computed.get(key);
    if (hit) return hit;
    return remember(this.#computed, key, await computeAt(this.repo, this.cfg, view, built, withLateTags));
  }
}

async function computeAt(
  repo: Repo,
  cfg: Pick<ChartConfig, "name" | "chartpressDir">,
  view: HistoryView,
  built: string,
  withLateTags: boolean,
): Promise<Computation> {
  const tags = view.tags.byName;
  const git = repo.mirror.git;
  const [info, where] = await Promise.all([commitInfo(repo, built), locateChartpress(git, built, cfg.name, cfg.chartpressDir)]);
  if (where === null) {
    const fixedDir = cfg.chartpressDir === undefined ? null : normalizeDir(cfg.chartpressDir);
    throw new ShaError({ kind: "no-chartpress", chart: cfg.name, commit: built, fixedDir });
  }
  const cpDir = where.dir;
  const text = where.kind === "chartpress.yaml" ? await readChartpressYaml(git, built, cpDir) : null;
  let cp: ReturnType<typeof parseChartpressYaml>;
  let pin: ChartpressPin;
  let paths: string[];
  if (text === null) {
    // Before chartpress.yaml: a vendored build.py chose the paths itself (binderhub and z2jh in 2017).
    const script = await git.readFile(built, inDir(cpDir, "build.py"));
    const legacy = script === null ? null : legacyChartPaths(script, cpDir);
    if (legacy === null) {
      throw new ShaError({ kind: "unreadable-build-script", chart: cfg.name, commit: built, script: inDir(cpDir, "build.py") });
    }
    cp = { name: cfg.name };
    pin = { file: inDir(cpDir, "build.py"), spec: null, version: "0.0.0", generation: 0, long: false };
    paths = legacy;
  } else {
    try {
      cp = parseChartpressYaml(text, cfg.name);
    } catch (e) {
      if (e instanceof ChartpressConfigError)
        throw new ShaError({ kind: "bad-chartpress-yaml", commit: built, error: e.message });
      throw e;
    }
    pin = await detectChartpress(git, built, cpDir, info.date);
    paths = toRepoPaths(cpDir, chartpressPaths(pin.generation, cp)).filter((p) => !p.startsWith(":"));
  }
  const gen = pin.generation;
  // Only the tags that existed when CI built this commit; with `withLateTags` also those made within
  // the hour after it (a release commit pushed together with its tag).
  const at = Date.parse(info.date);
  const visible = gen >= 1 && tags.size > 0 ? view.tagsVisibleAt(at + (withLateTags ? LATE_TAG_MS : 0)) : new Map();
  const lateTags =
    gen >= 1 && !withLateTags ? [...view.tagsVisibleAt(at + LATE_TAG_MS).keys()].filter((t) => !visible.has(t)) : [];
  const useTags = visible.size > 0;
  const pos = useTags ? await view.positions() : null;
  // chartpress: the latest tag reachable from the built commit (`git describe --tags` of HEAD).
  const headTagP: Promise<{ tag: string; commit: string } | null> = pos ? view.latestTag(built, visible) : Promise.resolve(null);
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
    throw new ShaError({ kind: "no-chart-change", commit: built, paths });
  }
  let chartCommit = mod;
  let viaTag: string | null = null;
  // Without baseVersion, or before chartpress 2, the version needs `git describe` of the chart commit.
  const needDescribe = useTags && !(gen === 5 && cp.baseVersion);
  const tagAncestor = async (): Promise<boolean> => {
    if (!headTag || headTag.commit === mod || !pos) return true;
    const bounds = await view.tagBounds();
    const pm = pos.get(mod);
    const b = bounds.get(headTag.commit);
    if (pm !== undefined && b !== undefined) return pm <= b;
    const r = await git.run(["merge-base", "--is-ancestor", "--end-of-options", headTag.commit, mod], { okCodes: [1] });
    return r.code === 0;
  };
  const [ancestor, count0, desc0] = await Promise.all([
    tagAncestor(),
    counter ? counter.send(`${mod}\n`).then(Number) : Promise.resolve(null),
    needDescribe ? view.describe(mod, visible) : Promise.resolve(null),
  ]);
  let count = count0;
  let desc = desc0;
  if (headTag && !ancestor) {
    chartCommit = headTag.commit;
    viaTag = headTag.tag;
    [count, desc] = await Promise.all([
      needCount ? repo.history.countCommits(chartCommit) : Promise.resolve(null),
      needDescribe ? view.describe(chartCommit, visible) : Promise.resolve(null),
    ]);
  }
  if (useTags && !needDescribe) {
    // baseVersion is used unless the chart commit itself is tagged (describe distance 0).
    const names = tagsAt(visible, chartCommit);
    desc = names.length ? { tag: names.sort()[0] as string, since: 0 } : null;
    if (names.length > 1) desc = await view.describe(chartCommit, visible);
  }
  let chartYamlVersion: string | undefined;
  if (gen === 0) {
    const cy = await git.readFile(built, inDir(cpDir, `${cp.name}/Chart.yaml`));
    const v = cy ? (yaml.load(cy) as { version?: unknown } | null)?.version : undefined;
    chartYamlVersion = v === undefined || v === null ? undefined : String(v);
  }
  return {
    built,
    lateTags,
    chartCommit,
    generation: gen,
    builder: { generation: gen, spec: pin.spec, file: pin.file, script: text === null ? inDir(cpDir, "build.py") : null },
    paths,
    count,
    describe: desc,
    baseVersion: cp.baseVersion,
    chartYamlVersion,
    long: pin.long,
    viaTag,
    builtInfo: info,
  };
}

/** `path` inside the folder `dir` ("." is the repository root). */
function inDir(dir: string, path: string): string {
  return dir === "." ? path : `${dir}/${path}`;
}
