import yaml from "js-yaml";
import { type ChartContext, type CommitInfo, commitInfo, remember, short } from "../context.ts";
import { ShaError } from "../errors.ts";
import { isFullSha } from "../git/git.ts";
import { countCommits, describe, firstParents, latestTag, tagBounds, tagsAt, tagsOf, tagsVisibleAt } from "../git/topology.ts";
import {
  ChartpressConfigError,
  type ChartpressPin,
  chartpressPaths,
  detectChartpress,
  GENERATION_LABEL,
  type Generation,
  parseChartpressYaml,
  readChartpressYaml,
  toRepoPaths,
} from "./chartpress.ts";
import { legacyChartPaths } from "./legacy-build-py.ts";
import { locateChartpress, normalizeDir } from "./locate.ts";

/** How long after a build a tag may have been pushed together with the built commit. */
const LATE_TAG_MS = 60 * 60 * 1000;

/** What the rule gives at one built commit (everything but the hash length). */
export interface Computation {
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
 * The rule at built commit B, as the chartpress of B's era ran it: the chart commit
 * (`git log -n1 -- <paths>`, or the latest tag when newer), and the count/describe its version needs.
 * Cached: history is immutable.
 */
export async function computeAt(ctx: ChartContext, built: string, withLateTags = false): Promise<Computation> {
  // Read first: a changed tag set clears the cache.
  const tags = await tagsOf(ctx);
  const key = withLateTags ? `${built}+late` : built;
  const hit = ctx.computed.get(key);
  if (hit) return hit;
  const { cfg, mirror } = ctx;
  const git = mirror.git;
  const [info, where] = await Promise.all([commitInfo(ctx, built), locateChartpress(git, built, cfg.name, cfg.chartpressDir)]);
  if (where === null) {
    const looked = cfg.chartpressDir === undefined ? "the root or a top-level folder" : normalizeDir(cfg.chartpressDir);
    throw new ShaError(
      "no-chartpress",
      `There is no chartpress.yaml (nor a build.py) next to ${cfg.name}/Chart.yaml in ${looked} at ${short(built)}: no ${cfg.name} chart was built from that commit.`,
    );
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
      throw new ShaError(
        "no-chartpress",
        `At ${short(built)} the ${cfg.name} chart was built by ${inDir(cpDir, "build.py")}, a script whose chart paths cannot be read: no version is guessed.`,
      );
    }
    cp = { name: cfg.name };
    pin = { file: inDir(cpDir, "build.py"), spec: null, version: "0.0.0", generation: 0, long: false };
    paths = legacy;
  } else {
    try {
      cp = parseChartpressYaml(text, cfg.name);
    } catch (e) {
      if (e instanceof ChartpressConfigError) throw new ShaError("no-chartpress", `At ${short(built)}: ${e.message}.`);
      throw e;
    }
    pin = await detectChartpress(git, built, cpDir, info.date);
    paths = toRepoPaths(cpDir, chartpressPaths(pin.generation, cp)).filter((p) => !p.startsWith(":"));
  }
  const gen = pin.generation;
  // Only the tags that existed when CI built this commit; with `withLateTags` also those made within
  // the hour after it (a release commit pushed together with its tag).
  const at = Date.parse(info.date);
  const visible = gen >= 1 && tags.size > 0 ? await tagsVisibleAt(ctx, at + (withLateTags ? LATE_TAG_MS : 0)) : new Map();
  const lateTags =
    gen >= 1 && !withLateTags ? [...(await tagsVisibleAt(ctx, at + LATE_TAG_MS)).keys()].filter((t) => !visible.has(t)) : [];
  const useTags = visible.size > 0;
  const tip = useTags ? await mirror.tip() : "";
  const pos = useTags ? await firstParents(ctx, tip) : null;
  // chartpress: the latest tag reachable from the built commit (`git describe --tags` of HEAD).
  const headTagP: Promise<{ tag: string; commit: string } | null> = pos
    ? latestTag(ctx, built, tip, pos, visible)
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
    if (!headTag || headTag.commit === mod || !pos) return true;
    const bounds = await tagBounds(ctx, tip, pos);
    const pm = pos.get(mod);
    const b = bounds.get(headTag.commit);
    if (pm !== undefined && b !== undefined) return pm <= b;
    const r = await git.run(["merge-base", "--is-ancestor", "--end-of-options", headTag.commit, mod], { okCodes: [1] });
    return r.code === 0;
  };
  const [ancestor, count0, desc0] = await Promise.all([
    tagAncestor(),
    counter ? counter.send(`${mod}\n`).then(Number) : Promise.resolve(null),
    needDescribe ? describe(ctx, mod, visible) : Promise.resolve(null),
  ]);
  let count = count0;
  let desc = desc0;
  if (headTag && !ancestor) {
    chartCommit = headTag.commit;
    viaTag = headTag.tag;
    [count, desc] = await Promise.all([
      needCount ? countCommits(ctx, chartCommit) : Promise.resolve(null),
      needDescribe ? describe(ctx, chartCommit, visible) : Promise.resolve(null),
    ]);
  }
  if (useTags && !needDescribe) {
    // baseVersion is used unless the chart commit itself is tagged (describe distance 0).
    const names = tagsAt(visible, chartCommit);
    desc = names.length ? { tag: names.sort()[0] as string, since: 0 } : null;
    if (names.length > 1) desc = await describe(ctx, chartCommit, visible);
  }
  let chartYamlVersion: string | undefined;
  if (gen === 0) {
    const cy = await git.readFile(built, inDir(cpDir, `${cp.name}/Chart.yaml`));
    const v = cy ? (yaml.load(cy) as { version?: unknown } | null)?.version : undefined;
    chartYamlVersion = v === undefined || v === null ? undefined : String(v);
  }
  const label = GENERATION_LABEL[gen];
  return remember(ctx.computed, key, {
    built,
    lateTags,
    chartCommit,
    generation: gen,
    chartpress:
      text === null
        ? `the vendored ${inDir(cpDir, "build.py")} (before chartpress.yaml)`
        : pin.spec
          ? `${label} (${pin.spec}${pin.file ? ` in ${pin.file}` : ""})`
          : label,
    paths,
    count,
    describe: desc,
    baseVersion: cp.baseVersion,
    chartYamlVersion,
    long: pin.long,
    viaTag,
    builtInfo: info,
  });
}

/** `path` inside the folder `dir` ("." is the repository root). */
function inDir(dir: string, path: string): string {
  return dir === "." ? path : `${dir}/${path}`;
}
