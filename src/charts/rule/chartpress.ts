import { posix } from "node:path";
import yaml from "js-yaml";
// One function each, not the whole package: `import "semver"` loads ~50 files, which every start pays.
import semverCoerce from "semver/functions/coerce.js";
import semverGt from "semver/functions/gt.js";
import semverLt from "semver/functions/lt.js";
import semverSatisfies from "semver/functions/satisfies.js";
import { errorLine } from "../../core/one-line.ts";
import type { Git } from "../git/git.ts";

/**
 * What chartpress did differed between its versions (see ../shared/research/chart-versions.md and
 * chartpress.py at each tag). Generations with the same behaviour share a number:
 *
 * | gen | chartpress | paths given to `git log -n1 --` (relative to chartpress.yaml's folder) | version |
 * |---|---|---|---|
 * | 0 | vendored build.py, < 0.4 | `.` + chart `paths` | `<Chart.yaml version before '-'>-<sha>` |
 * | 1 | 0.4.x | `.` + chart `paths`; the latest tag counts as a chart commit | `<tag>-<NNN since tag>.<sha>` |
 * | 2 | 0.5.x | chartpress.yaml, chart dir, chart `paths`, each image's contextPath, dockerfilePath, `paths` | as 1 |
 * | 3 | 0.6.x | as 2 | `<tag>-n<NNN>.h<sha>` |
 * | 4 | 0.7 – 1.x | as 2, without contextPath when `rebuildOnContextPathChanges: false` | as 3 |
 * | 5 | >= 2.0 | as 4 | `<baseVersion or tag>.git.<rev-list --count>.h<sha>` |
 */
export type Generation = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * chartpress releases with the time of their tag in jupyterhub/chartpress, to resolve a pin like
 * `>=1.2` at a build's time. Times, not days: z2jh built with an unpinned chartpress five minutes
 * before 2.0.0 was tagged on 2022-09-01 and published a 1.x version that day.
 */
const CHARTPRESS_RELEASES: ReadonlyArray<readonly [string, string]> = [
  ["0.1.0", "2018-02-23T10:49:10Z"],
  ["0.1.1", "2018-02-23T11:03:16Z"],
  ["0.2.0", "2018-05-29T09:46:04Z"],
  ["0.2.1", "2018-08-10T11:30:20Z"],
  ["0.2.2", "2018-08-19T08:46:48Z"],
  ["0.3.0", "2019-02-07T10:55:18Z"],
  ["0.3.1", "2019-02-07T15:18:38Z"],
  ["0.3.2", "2019-10-05T15:35:47Z"],
  ["0.4.0", "2019-10-17T16:26:48Z"],
  ["0.4.1", "2019-10-17T18:48:25Z"],
  ["0.4.2", "2019-10-19T11:02:42Z"],
  ["0.4.3", "2019-10-29T20:27:18Z"],
  ["0.5.0", "2019-12-01T21:18:22Z"],
  ["0.6.0", "2020-01-12T18:07:13Z"],
  ["0.7.0", "2020-11-02T15:50:23Z"],
  ["1.0.0", "2020-11-21T12:33:25Z"],
  ["1.0.1", "2020-12-03T16:08:59Z"],
  ["1.0.2", "2020-12-04T11:47:03Z"],
  ["1.0.3", "2020-12-14T15:30:36Z"],
  ["1.0.4", "2021-01-20T08:42:34Z"],
  ["1.1.0", "2021-04-12T08:02:46Z"],
  ["1.2.0", "2021-06-23T17:25:59Z"],
  ["1.2.2", "2021-07-23T08:32:56Z"],
  ["1.3.0", "2021-07-26T20:21:24Z"],
  ["2.0.0", "2022-09-01T16:09:15Z"],
  ["2.1.0", "2022-09-08T07:14:04Z"],
  ["2.2.0", "2024-01-11T18:32:39Z"],
  ["2.3.0", "2025-01-21T21:16:59Z"],
  ["2.4.0", "2026-05-01T22:02:43Z"],
];

export function generationOf(version: string): Generation {
  const v = semverCoerce(version)?.version ?? "0.0.0";
  if (semverLt(v, "0.4.0")) return 0;
  if (semverLt(v, "0.5.0")) return 1;
  if (semverLt(v, "0.6.0")) return 2;
  if (semverLt(v, "0.7.0")) return 3;
  if (semverLt(v, "2.0.0")) return 4;
  return 5;
}

/**
 * The newest release satisfying `range` that existed at `date` (an ISO time; a bare YYYY-MM-DD is the
 * end of that day); null when none.
 */
export function resolveChartpress(range: string | null, date: string): string | null {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T23:59:59Z`) : Date.parse(date);
  let best: string | null = null;
  for (const [v, d] of CHARTPRESS_RELEASES) {
    if (Date.parse(d) > at) continue;
    if (range && !semverSatisfies(v, range, { loose: true })) continue;
    if (!best || semverGt(v, best)) best = v;
  }
  return best;
}

/** pip requirement specifiers → a semver range: `==0.5.*` → `0.5.x`, `>=0.4.3,<0.5` → `>=0.4.3 <0.5`. */
export function pipSpecToRange(spec: string): string | null {
  const s = spec.replace(/\s+/g, "");
  if (s === "") return null;
  const parts = s.split(",").filter(Boolean);
  const out: string[] = [];
  for (const p of parts) {
    const m = /^(===|==|>=|<=|~=|!=|>|<)(.+)$/.exec(p);
    if (!m) return null;
    const [, op, ver] = m as unknown as [string, string, string];
    if (op === "==" || op === "===") out.push(ver.replace(/\.\*$/, ".x"));
    else if (op === "~=") out.push(`~${ver}`);
    else if (op === "!=") continue;
    else out.push(`${op}${ver}`);
  }
  return out.join(" ") || null;
}

export interface ChartpressPin {
  /** The file the pin (or the install) was found in. */
  file: string | null;
  /** The requirement as written (`chartpress==0.6.*`, `chartpress` unpinned, a git install…). */
  spec: string | null;
  /** The chartpress release the pin resolved to at the build date. */
  version: string;
  generation: Generation;
  /** True when the publishing command passes `--long`. */
  long: boolean;
}

/** Files where repositories install and run chartpress, in order of authority for publishing. */
const PIN_FILES = [
  ".github/workflows/publish.yml",
  ".github/workflows/publish.yaml",
  "ci/publish",
  ".travis.yml",
  "ci/test-helm",
  "dev-requirements.txt",
  "requirements-dev.txt",
  "ci/requirements.txt",
];

const VENDORED = ["build.py"];

/**
 * Which chartpress built the chart at `commit` (committed at `date`): the pin found in the CI files
 * at that commit, resolved against the releases that existed then. A vendored `<folder of chartpress.yaml>/build.py`
 * with no chartpress install means generation 0. With no pin at all, the newest release of the day.
 */
export async function detectChartpress(git: Git, commit: string, cpDir: string, date: string): Promise<ChartpressPin> {
  const files = await Promise.all(PIN_FILES.map(async (f) => [f, await git.readFile(commit, f)] as const));
  let long = false;
  let found: { file: string; spec: string | null; range: string | null; gitInstall: boolean } | null = null;
  for (const [file, text] of files) {
    if (text === null) continue;
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*$/, "");
      // `chartpress --push --publish-chart --long …` (an invocation, not an install)
      if (/(^|[\s;&|(])chartpress\s+[^\n]*--long\b/.test(line)) long = true;
      if (found) continue;
      const gitInstall =
        /git\+https?:\/\/[^\s'"]*chartpress/i.test(line) || /chartpress(?:\.git)?\/(?:archive|tarball|zipball)\//i.test(line);
      if (gitInstall) {
        found = { file, spec: line.trim(), range: null, gitInstall: true };
        continue;
      }
      const m = /(?:^|[\s'"])chartpress\s*((?:[=<>!~]=?=?\s*[\w.*]+\s*,?\s*)*)(?=$|[\s'";#])/i.exec(line);
      if (!m) continue;
      const isReq = /^\s*chartpress\b/i.test(line) && file.endsWith(".txt");
      const isPip = /pip3?\s+install\b/.test(line) || /python3?\s+-m\s*pip\s+install\b/.test(line);
      if (!isReq && !isPip) continue;
      const spec = (m[1] ?? "").trim();
      found = { file, spec: `chartpress${spec}`, range: spec ? pipSpecToRange(spec) : null, gitInstall: false };
    }
  }
  let version: string | null = null;
  if (found && !found.gitInstall) version = resolveChartpress(found.range, date);
  if (!version && found?.gitInstall) version = resolveChartpress(null, date);
  if (!found) {
    const vendored = await Promise.all(VENDORED.map((f) => git.readFile(commit, posix.join(cpDir, f))));
    if (vendored.some((t) => t !== null)) {
      return { file: posix.join(cpDir, "build.py"), spec: "vendored build.py", version: "0.0.0", generation: 0, long };
    }
  }
  version ??= resolveChartpress(null, date) ?? "0.0.0";
  return { file: found?.file ?? null, spec: found?.spec ?? null, version, generation: generationOf(version), long };
}

export interface ImageConfig {
  contextPath?: string;
  dockerfilePath?: string;
  paths?: string[];
  rebuildOnContextPathChanges?: boolean;
}

export interface ChartpressChart {
  name: string;
  paths?: string[];
  baseVersion?: string;
  images?: Record<string, ImageConfig>;
}

export class ChartpressConfigError extends Error {}

/** The `charts[]` entry for `chart` in a chartpress.yaml text (the only chart when names differ). */
export function parseChartpressYaml(text: string, chart: string): ChartpressChart {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new ChartpressConfigError(`chartpress.yaml is not valid YAML (${errorLine(e)})`);
  }
  const charts = (doc as { charts?: unknown } | null)?.charts;
  if (!Array.isArray(charts) || charts.length === 0) throw new ChartpressConfigError("chartpress.yaml has no charts");
  const entry = charts.find((c) => (c as { name?: unknown })?.name === chart) ?? (charts.length === 1 ? charts[0] : undefined);
  if (!entry || typeof (entry as { name?: unknown }).name !== "string") {
    throw new ChartpressConfigError(`chartpress.yaml has no chart named ${chart}`);
  }
  const e = entry as Record<string, unknown>;
  const strList = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
  const images: Record<string, ImageConfig> = {};
  if (e.images && typeof e.images === "object") {
    for (const [name, cfg] of Object.entries(e.images as Record<string, unknown>)) {
      const c = (cfg ?? {}) as Record<string, unknown>;
      images[name] = {
        ...(typeof c.contextPath === "string" ? { contextPath: c.contextPath } : {}),
        ...(typeof c.dockerfilePath === "string" ? { dockerfilePath: c.dockerfilePath } : {}),
        ...(strList(c.paths) ? { paths: strList(c.paths) } : {}),
        ...(c.rebuildOnContextPathChanges === false ? { rebuildOnContextPathChanges: false } : {}),
      };
    }
  }
  return {
    name: e.name as string,
    ...(strList(e.paths) ? { paths: strList(e.paths) } : {}),
    ...(typeof e.baseVersion === "string" ? { baseVersion: e.baseVersion } : {}),
    ...(e.images ? { images } : {}),
  };
}

/**
 * The paths chartpress passed to `git log -n1 --` in generation `gen`, relative to chartpress.yaml's
 * folder, exactly as chartpress listed them.
 */
export function chartpressPaths(gen: Generation, chart: ChartpressChart): string[] {
  if (gen <= 1) return [".", ...(chart.paths ?? [])];
  const out: string[] = ["chartpress.yaml", chart.name, ...(chart.paths ?? [])];
  for (const [name, img] of Object.entries(chart.images ?? {})) {
    const context = img.contextPath || posix.join("images", name);
    const dockerfile = img.dockerfilePath || posix.join(context, "Dockerfile");
    out.push("chartpress.yaml");
    if (gen < 4 || img.rebuildOnContextPathChanges !== false) out.push(context);
    out.push(dockerfile);
    out.push(...(img.paths ?? []));
  }
  return [...new Set(out)];
}

/**
 * Paths relative to chartpress.yaml's folder → pathspecs relative to the repository root (what
 * `git log` run in that folder would have used). A path that leaves the repository is dropped.
 */
export function toRepoPaths(cpDir: string, paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const joined = posix.normalize(posix.join(cpDir, p));
    if (joined === ".." || joined.startsWith("../") || posix.isAbsolute(p)) continue;
    out.add(joined === "." || joined === "./" ? "." : joined.replace(/\/$/, ""));
  }
  return [...out].sort();
}

/** The chartpress.yaml text at a commit, or null when that commit has none. */
export function readChartpressYaml(git: Git, commit: string, cpDir: string): Promise<string | null> {
  return git.readFile(commit, posix.join(cpDir, "chartpress.yaml"));
}
