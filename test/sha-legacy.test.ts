import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChartService } from "../src/charts/answer/service.ts";
import { legacyChartPaths } from "../src/charts/rule/legacy-build-py.ts";
import { builderText, chartErrorLine } from "../src/commands/sha-text.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartServiceFor } from "./helpers/chart-service.ts";
import { TestRepo } from "./helpers/git.ts";

// build.py as binderhub vendored it in September 2017: the version's hash from `git log -- .`,
// run by CI from the repository root, so any change anywhere made a new chart.
const WHOLE_REPO = `#!/usr/bin/env python3
import os
import subprocess

BASEPATH = os.path.dirname(__file__)
CHARTPATH = os.path.join(BASEPATH, 'binderhub')

def last_git_modified(path):
    return subprocess.check_output(['git', 'log', '-n', '1', '--pretty=format:%h', path]).decode('utf-8')

def build_chart():
    version = last_git_modified('.')
    chart['version'] = chart['version'] + '-' + version
`;

// ... and from October 2017: the chart folder plus the files of the binderhub image.
const IMAGE_FILES = `#!/usr/bin/env python3
import os

BASEPATH = os.path.abspath(os.path.dirname(__file__))
CHARTPATH = os.path.join(BASEPATH, 'binderhub')
ROOTPATH = os.path.dirname(BASEPATH)
NAME = 'binderhub'
PYPKGPATH = os.path.join(ROOTPATH, NAME)
SETUP_PY = os.path.join(ROOTPATH, 'setup.py')

IMAGE_PATH = os.path.join(BASEPATH, 'images', NAME)
# IMAGE_FILES should be all paths that contribute to the binderhub image
IMAGE_FILES = [SETUP_PY, PYPKGPATH, IMAGE_PATH]
CHART_FILES = IMAGE_FILES + [CHARTPATH]

def last_git_modified(paths):
    if isinstance(paths, str):
        paths = [paths]
    return subprocess.check_output(['git', 'log', '-n', '1', '--pretty=format:%h', '--'] + list(paths)).decode('utf-8')

def build_chart():
    version = last_git_modified([BASEPATH] + IMAGE_FILES)
    chart['version'] = chart['version'].split('-')[0] + '-' + version

def publish_pages():
    version = last_git_modified('.')
`;

describe("the vendored build.py before chartpress.yaml: which paths made a new chart", () => {
  it("reads '.' (CI ran it from the repository root) as the whole repository", () => {
    expect(legacyChartPaths(WHOLE_REPO, "helm-chart")).toEqual(["."]);
  });

  it("evaluates the module's path assignments for [BASEPATH] + IMAGE_FILES", () => {
    expect(legacyChartPaths(IMAGE_FILES, "helm-chart")).toEqual([
      "binderhub",
      "helm-chart",
      "helm-chart/images/binderhub",
      "setup.py",
    ]);
    expect(legacyChartPaths(IMAGE_FILES, "charts")).toEqual(["binderhub", "charts", "charts/images/binderhub", "setup.py"]);
  });

  it("declines scripts it cannot read, rather than guessing", () => {
    expect(legacyChartPaths("print('hello')\n", "helm-chart")).toBeNull();
    expect(legacyChartPaths("def build_chart():\n    version = compute(SOMETHING)\n", "helm-chart")).toBeNull();
    expect(legacyChartPaths("def build_chart():\n    version = last_git_modified(UNKNOWN)\n", "helm-chart")).toBeNull();
    expect(legacyChartPaths("def build_chart():\n    version = last_git_modified('../elsewhere')\n", "helm-chart")).toBeNull();
  });
});

describe("answers for commits of the build.py era, end to end", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let svc: ChartService;
  let world: Awaited<ReturnType<typeof chartServiceFor>>;
  const c: Record<string, string> = {};

  beforeAll(async () => {
    repo = TestRepo.create();
    repo.clock = Date.parse("2017-09-20T10:00:00Z") / 1000;
    c.readme = repo.commit("README, before any chart", { "README.md": "hi\n" });
    c.whole = repo.commit("import the helm chart", {
      "helm-chart/build.py": WHOLE_REPO,
      "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.1.0\n",
      "binderhub/app.py": "v1\n",
      "setup.py": "setup()\n",
    });
    c.docs1 = repo.commit("docs change: the whole repository counted then", { "doc/index.rst": "a\n" });
    c.narrow = repo.commit("include python package changes when setting image, chart versions", {
      "helm-chart/build.py": IMAGE_FILES,
    });
    c.docs2 = repo.commit("docs change: no longer a chart change", { "doc/index.rst": "b\n" });
    c.pkg = repo.commit("package change", { "binderhub/app.py": "v2\n" });
    repo.branch("pr-120");
    c.pr = repo.commit("PR work", { "binderhub/app.py": "v3\n" });
    repo.checkout("main");
    c.merge = repo.merge("pr-120", "Merge pull request #120 from someone/pr");
    index = await startIndexServer({
      body: indexYaml({
        binderhub: [c.whole, c.docs1, c.narrow, c.pkg, c.pr].map((sha) => ({
          version: `0.1.0-${sha!.slice(0, 7)}`,
          created: "2017-10-01T00:00:00Z",
        })),
      }),
    });
    world = await chartServiceFor({
      chart: "binderhub",
      github: "jupyterhub/binderhub",
      repoPath: repo.path,
      indexUrl: index.url,
      now: new Date("2017-10-02T00:00:00Z"),
    });
    svc = world.svc;
  });

  afterAll(async () => {
    await world.close();
    await index.close();
    repo.remove();
  });

  const ask = (sha: string) => svc.answer("binderhub", { kind: "sha", sha }, { pin: false });

  it("whole-repository era: a docs commit is a chart commit", async () => {
    const a = await ask(c.docs1!);
    expect(a.chartCommit).toBe(c.docs1);
    expect(a.version).toBe(`0.1.0-${c.docs1!.slice(0, 7)}`);
    expect(a.published).toBe(true);
    expect(builderText(a.builder)).toContain("vendored helm-chart/build.py (before chartpress.yaml)");
  });

  it("image-files era: a docs commit keeps the previous chart", async () => {
    const a = await ask(c.docs2!);
    expect(a.chartCommit).toBe(c.narrow);
    expect(a.version).toBe(`0.1.0-${c.narrow!.slice(0, 7)}`);
    expect(a.relation).toBe("outside-chart-paths");
  });

  it("a merge identical to its PR branch gives the PR commit's chart, as in 2018", async () => {
    const a = await ask(c.merge!);
    expect(a.chartCommit).toBe(c.pr);
    expect(a.version).toBe(`0.1.0-${c.pr!.slice(0, 7)}`);
    expect(a.published).toBe(true);
  });

  it("before build.py there was no chart", async () => {
    await expect(ask(c.readme!).catch(chartErrorLine)).resolves.toMatch(
      /no chartpress.yaml \(nor a build.py\) next to binderhub\/Chart.yaml/,
    );
  });
});
