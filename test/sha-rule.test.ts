import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChartService } from "../src/charts/answer/service.ts";
import type { ShaAnswer } from "../src/charts/answer/types.ts";
import { ShaError } from "../src/charts/errors.ts";
import { builderText, explanationText, reasonText, shaErrorDetail, shaErrorText } from "../src/commands/sha-text.ts";
import { parseConfig } from "../src/config/load.ts";
import { createOctokit } from "../src/github/client.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type FakeChartEntry, type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml } from "./helpers/app.ts";
import { incident2018 } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";
import { silentLogger } from "./helpers/log.ts";

/*
 * Repositories built here reproduce each case of the chartpress rule. Expected chart commits are
 * known by construction; expected counts come from raw git on the test repository.
 */

const MODERN_CHARTPRESS = (extraPaths: string[] = []) => `charts:
  - name: binderhub
    baseVersion: 1.0.0-0.dev
    imagePrefix: quay.io/jupyterhub/k8s-
    images:
      binderhub:
        dockerfilePath: images/binderhub/Dockerfile
        contextPath: ..
        rebuildOnContextPathChanges: false
        paths:
          - images/binderhub
          - ../binderhub
${extraPaths.map((p) => `          - ${p}\n`).join("")}        valuesPath: image
`;
const PUBLISH_YML = `name: Publish
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: pip install --no-cache-dir chartpress>=2.1 pyyaml
      - run: ./ci/publish
`;

const clockStart = Date.parse("2024-06-01T12:00:00Z");

function h(sha: string, n = 7) {
  return sha.slice(0, n);
}

interface World {
  repo: TestRepo;
  index: IndexServer;
  github: FakeGitHub;
  svc: ChartService;
  store: Store;
  dataDir: string;
  now: { t: number };
  entries: FakeChartEntry[];
}

async function world(repo: TestRepo, entries: FakeChartEntry[], nowIso: string): Promise<World> {
  const index = await startIndexServer({ body: indexYaml({ binderhub: entries }) });
  const github = await startFakeGitHub();
  const dataDir = mkdtempSync(join(tmpdir(), "binderbot-data-"));
  const { config } = parseConfig(
    chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: index.url }),
    "test.yaml",
    {},
  );
  const now = { t: Date.parse(nowIso) };
  const store = await openStore("memory", ".");
  const log = silentLogger();
  const svc = new ChartService({
    config,
    store,
    log,
    now: () => new Date(now.t),
    octokit: () => createOctokit({ apiUrl: github.url, log, retries: 0, retryBaseMs: 1 }),
  });
  return { repo, index, github, svc, store, dataDir, now, entries };
}

async function closeWorld(w: World) {
  w.svc.close();
  await w.index.close();
  await w.github.close();
  await w.store.close();
  rmSync(w.dataDir, { recursive: true, force: true });
  w.repo.remove();
}

async function errorOf(p: Promise<unknown>): Promise<ShaError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ShaError) return e;
    throw e;
  }
  throw new Error("expected a ShaError");
}

describe("chartpress >= 2 era (baseVersion, rebuildOnContextPathChanges: false)", () => {
  let w: World;
  const c: Record<string, string> = {};
  const count = (sha: string) => Number(w.repo.git("rev-list", "--count", sha));
  const ask = (sha: string) => w.svc.answer("binderhub", { kind: "sha", sha }, { pin: false });

  beforeAll(async () => {
    const r = TestRepo.create();
    r.clock = clockStart / 1000;
    c.readme = r.commit("README only, before chartpress", { "README.md": "hello\n" });
    c.base = r.commit("add the chart", {
      "helm-chart/chartpress.yaml": MODERN_CHARTPRESS(),
      "helm-chart/binderhub/Chart.yaml": "apiVersion: v2\nname: binderhub\nversion: 0.0.1-set.by.chartpress\n",
      "helm-chart/binderhub/values.yaml": "image: {}\n",
      "helm-chart/images/binderhub/Dockerfile": "FROM python:3.12\n",
      "binderhub/app.py": "print('v1')\n",
      "js/index.js": "// v1\n",
      ".github/workflows/publish.yml": PUBLISH_YML,
    });
    // The 2018 topology: the merge's chart paths equal its second parent's.
    r.branch("pr-395");
    c.p395 = r.commit("remove unused fonts", { "binderhub/app.py": "print('v2')\n" });
    r.checkout("main");
    c.m395 = r.merge("pr-395", "Merge pull request #395 from minrk/rm-svg-fonts");
    // A merge that differs from both parents: both sides changed chart paths.
    r.branch("pr-400");
    c.p400 = r.commit("change a", { "binderhub/a.py": "a\n" });
    r.checkout("main");
    c.main400 = r.commit("change b on main", { "binderhub/b.py": "b\n" });
    c.m400 = r.merge("pr-400", "Merge pull request #400 from someone/both");
    // A change outside the chart paths (docs, and js/ which is not a path yet).
    c.docs = r.commit("docs only", { "docs/index.md": "docs\n" });
    c.js1 = r.commit("js before js/ was a chart path", { "js/index.js": "// v2\n" });
    // A PR with a chart commit then a docs commit, merged: asking the PR commits.
    r.branch("pr-410");
    c.p410a = r.commit("chart change on the PR branch", { "helm-chart/binderhub/values.yaml": "image: {tag: x}\n" });
    c.p410b = r.commit("docs on the PR branch", { "docs/more.md": "more\n" });
    r.checkout("main");
    c.m410 = r.merge("pr-410", "Merge pull request #410 from someone/pr");
    // chart paths change: js/ becomes a chart path at this commit.
    c.pathsChange = r.commit("watch js too", { "helm-chart/chartpress.yaml": MODERN_CHARTPRESS(["../js"]) });
    c.js2 = r.commit("js after js/ became a chart path", { "js/index.js": "// v3\n" });
    // A tag on a commit that changed nothing in the chart paths: chartpress takes the tag.
    c.tagged = r.commit("release notes", { "docs/changelog.md": "1.2.0\n" });
    r.tag("1.2.0", c.tagged, true);
    c.afterTag = r.commit("chart change after the tag", { "binderhub/app.py": "print('v3')\n" });
    // A branch that is never merged.
    r.branch("unmerged");
    c.unmerged = r.commit("not merged anywhere", { "binderhub/app.py": "print('nope')\n" });
    r.checkout("main");
    // A PR from a fork: its commits are on no branch of the repository, only on GitHub's refs/pull/N/head.
    r.branch("fork-work");
    c.forkPr = r.commit("fork PR, still open", { "binderhub/app.py": "print('fork')\n" });
    r.checkout("main");
    r.git("update-ref", "refs/pull/1234/head", c.forkPr);
    r.git("branch", "-D", "fork-work");
    // Two root commits whose SHAs share 7 hex digits (040de84): fixed tree, author, date, message.
    const env = {
      GIT_AUTHOR_NAME: "T",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "T",
      GIT_COMMITTER_EMAIL: "t@example.com",
      GIT_AUTHOR_DATE: "1500000000 +0000",
      GIT_COMMITTER_DATE: "1500000000 +0000",
    };
    c.collA = r.orphanCommit("collide-a", "collide 11999", env);
    c.collB = r.orphanCommit("collide-b", "collide 14212", env);

    const entries: FakeChartEntry[] = [
      // the chart of the 2018-topology merge, published 7 minutes after it with a 7-char hash
      {
        version: `1.0.0-0.dev.git.${Number(r.git("rev-list", "--count", c.p395))}.h${h(c.p395)}`,
        created: "2024-06-01T12:12:00Z",
      },
      // newer entries switched to 8-character hashes (as binderhub did in 2024-08)
      { version: "1.0.0-0.dev.git.9000.habcdef01", created: "2024-09-01T00:00:00Z" },
    ];
    w = await world(r, entries, "2024-06-01T13:00:00Z");
  }, 60_000);

  afterAll(async () => {
    await closeWorld(w);
  });

  it("clones the mirror blobless through file://", async () => {
    await w.svc.mirror("binderhub").ready();
    expect(w.svc.mirror("binderhub").mode).toBe("blobless");
  });

  it("the 2018 topology: a merge identical to its second parent has the PR commit's chart", async () => {
    const a = await ask(c.m395!);
    expect(a.chartCommit).toBe(c.p395);
    expect(a.relation).toBe("merge-same-as-parent");
    expect(a.version).toBe(`1.0.0-0.dev.git.${count(c.p395!)}.h${h(c.p395!)}`);
    expect(a.published).toBe(true);
    expect(a.publishedAt).toBe("2024-06-01T12:12:00Z");
    expect(a.pr).toBe(395);
    expect(reasonText(a)).toContain("identical to its parent");
  });

  it("a merge that differs from both parents is itself the chart commit", async () => {
    const a = await ask(c.m400!);
    expect(a.chartCommit).toBe(c.m400);
    expect(a.relation).toBe("chart-commit");
    expect(a.published).toBe(false);
    // unpublished: predicted with the hash length CI had then — that of the first entry published
    // after it (7 here); commits after the switch to 8-character hashes get 8 (see the tag test).
    expect(a.hashLength).toBe(7);
    expect(a.version).toBe(`1.0.0-0.dev.git.${count(c.m400!)}.h${h(c.m400!, 7)}`);
  });

  it("a change outside the chart paths keeps the previous chart", async () => {
    const a = await ask(c.docs!);
    expect(a.chartCommit).toBe(c.m400);
    expect(a.relation).toBe("outside-chart-paths");
    const j = await ask(c.js1!);
    expect(j.chartCommit).toBe(c.m400);
  });

  it("a PR-branch commit gets the chart of the merge that brought it in", async () => {
    const a = await ask(c.p410b!);
    expect(a.builtCommit).toBe(c.m410);
    expect(a.chartCommit).toBe(c.p410a);
    expect(a.relation).toBe("pr-branch");
    expect(a.pr).toBe(410);
    const b = await ask(c.p410a!);
    expect(b.chartCommit).toBe(c.p410a);
    expect(b.builtCommit).toBe(c.m410);
    expect(reasonText(b)).toContain("PR-branch commit");
  });

  it("chart paths are read from chartpress.yaml at the commit (js/ counts only after it was added)", async () => {
    const before = await ask(c.js1!);
    expect(before.paths).not.toContain("js");
    const after = await ask(c.js2!);
    expect(after.paths).toContain("js");
    expect(after.chartCommit).toBe(c.js2);
    expect(after.paths).toEqual(
      [
        "binderhub",
        "helm-chart/binderhub",
        "helm-chart/chartpress.yaml",
        "helm-chart/images/binderhub",
        "helm-chart/images/binderhub/Dockerfile",
        "js",
      ].sort(),
    );
  });

  it("a tag newer than the last chart change is the chart commit, and the version is the tag", async () => {
    const a = await ask(c.tagged!);
    expect(a.chartCommit).toBe(c.tagged);
    expect(a.relation).toBe("tag");
    expect(a.version).toBe("1.2.0");
    // after the tag, baseVersion is used again with the full count
    const b = await ask(c.afterTag!);
    expect(b.version).toBe(`1.0.0-0.dev.git.${count(c.afterTag!)}.h${h(c.afterTag!, 8)}`);
  });

  it("a commit not merged anywhere has no chart", async () => {
    const e = await errorOf(ask(c.unmerged!));
    expect(e.code).toBe("not-merged");
    expect(shaErrorText(e)).toContain("not merged into main");
    expect(shaErrorText(e)).toContain("unmerged");
  });

  it("a commit of an open PR from a fork is found through refs/pull and named by its PR", async () => {
    const e = await errorOf(ask(h(c.forkPr!, 10)));
    expect(e.code).toBe("not-merged");
    expect(shaErrorText(e)).toBe(
      `${h(c.forkPr!, 8)} is not merged into main (it is on PR #1234): there is no chart for it until it is merged.`,
    );
    expect(e.data).toMatchObject({ commit: c.forkPr, prs: [1234] });
  });

  it("an ambiguous short hash lists the candidates", async () => {
    expect(h(c.collA!)).toBe(h(c.collB!));
    const e = await errorOf(ask(h(c.collA!)));
    expect(e.code).toBe("ambiguous");
    expect(shaErrorDetail(e).join("\n")).toContain(c.collA!.slice(0, 12));
    expect(shaErrorDetail(e).join("\n")).toContain(c.collB!.slice(0, 12));
  });

  it("unknown refs and commits without chartpress.yaml are one clear line", async () => {
    const u = await errorOf(ask("deadbeefdeadbeef"));
    expect(u.code).toBe("unknown-ref");
    expect(shaErrorText(u)).toMatch(/^No commit deadbeefdeadbeef in jupyterhub\/binderhub/);
    const n = await errorOf(ask(c.readme!));
    expect(n.code).toBe("no-chartpress");
    expect(shaErrorText(n)).toContain("There is no chartpress.yaml (nor a build.py) next to binderhub/Chart.yaml");
    const b = await errorOf(w.svc.answer("binderhub", { kind: "branch", name: "no-such-branch" }, { pin: false }));
    expect(shaErrorText(b)).toContain("no branch or tag 'no-such-branch'");
  });

  it("fetches on demand when a commit is unknown, and coalesces concurrent fetches", async () => {
    const m = w.svc.mirror("binderhub");
    const before = m.fetchCount;
    const fresh = w.repo.commit("pushed after the clone", { "binderhub/new.py": "x\n" });
    const a = await ask(h(fresh, 10));
    expect(a.commit).toBe(fresh);
    expect(a.chartCommit).toBe(fresh);
    expect(m.fetchCount).toBe(before + 1);
    await Promise.all([m.fetch(), m.fetch(), m.fetch()]);
    expect(m.fetchCount).toBe(before + 2);
  });

  it("a PR resolves to its merge commit through GitHub; an open PR has no chart yet", async () => {
    w.github.mergePull("jupyterhub/binderhub", 395, c.m395!);
    const a = await w.svc.answer("binderhub", { kind: "pr", number: 395 }, { pin: false });
    expect(a.commit).toBe(c.m395);
    expect(a.chartCommit).toBe(c.p395);
    w.github.setPull("jupyterhub/binderhub", 500, { state: "open" });
    const e = await errorOf(w.svc.answer("binderhub", { kind: "pr", number: 500 }, { pin: false }));
    expect(e.code).toBe("pr-not-merged");
    expect(shaErrorText(e)).toBe("PR #500 is not merged yet: there is no chart for it until it is merged.");
    w.github.failNext("/repos/jupyterhub/binderhub/pulls/501", 500, { times: 5 });
    const g = await errorOf(w.svc.answer("binderhub", { kind: "pr", number: 501 }, { pin: false }));
    expect(g.code).toBe("github");
    expect(shaErrorText(g)).toContain("GitHub");
  });

  it("reads the deploy pin and counts the versions between it and the answer", async () => {
    w.github.setFile(
      "jupyterhub/mybinder.org-deploy",
      "mybinder/Chart.yaml",
      `apiVersion: v2\nname: mybinder\nversion: 0.1.0\ndependencies:\n  - name: binderhub\n    version: "${w.entries[0]!.version}"\n    repository: https://jupyterhub.github.io/helm-chart\n`,
    );
    const a = await w.svc.answer("binderhub", { kind: "sha", sha: c.m400! });
    expect(a.pin?.pinned).toBe(w.entries[0]!.version);
    expect(a.pin?.line).toBe(`version: "${a.version}"`);
    // one newer published entry (the 8-char one) plus this unpublished version
    expect(a.pin?.behind).toBe(2);
    const same = await w.svc.answer("binderhub", { kind: "sha", sha: c.m395! });
    expect(same.pin?.behind).toBe(0);
  });

  it("answers from the last good index copy when the index is unreachable, and says how old", async () => {
    const first = await ask(c.m395!);
    expect(first.index.stale).toBe(false);
    const served = w.index.served;
    w.now.t += 61_000;
    const again = await ask(c.m395!);
    expect(w.index.served).toBe(served); // a 304, no new body
    expect(w.index.notModified).toBeGreaterThan(0);
    w.now.t += 61_000;
    w.index.failNext(503, 3);
    const stale = await ask(c.m395!);
    expect(again.published).toBe(true);
    expect(stale.published).toBe(true);
    expect(stale.index.stale).toBe(true);
    expect(stale.index.error).toContain("503");
  });

  it("explainVersion: a merge-commit version names the right chart", async () => {
    const wrong = `1.0.0-0.dev.git.${count(c.m395!)}.h${h(c.m395!)}`;
    const x = await w.svc.explainVersion("binderhub", wrong);
    expect(x.kind).toBe("merge-commit");
    expect(x.sha).toBe(c.m395);
    expect(x.correct?.version).toBe(w.entries[0]!.version);
    expect(explanationText(x)).toContain("merge commit of #395");
    const pub = await w.svc.explainVersion("binderhub", w.entries[0]!.version);
    expect(pub.kind).toBe("published");
    const trunc = `1.0.0-0.dev.git.${count(c.p395!)}.h${h(c.p395!, 9)}`;
    expect((await w.svc.explainVersion("binderhub", trunc)).kind).toBe("wrong-format");
    expect((await w.svc.explainVersion("binderhub", "9.9.9")).kind).toBe("no-sha");
    expect((await w.svc.explainVersion("binderhub", "1.0.0-0.dev.git.1.h0123456")).kind).toBe("unknown-sha");
    expect((await w.svc.explainVersion("binderhub", `1.0.0-0.dev.git.1.h${h(c.p410b!)}`)).kind).toBe("pr-branch");
    expect((await w.svc.explainVersion("binderhub", `1.0.0-0.dev.git.1.h${h(c.docs!)}`)).kind).toBe("not-chart-commit");
  });
});

describe("the vendored build.py era (2018): Chart.yaml version + %h, the 4e3bafb topology", () => {
  let w: World;
  const c: Record<string, string> = {};
  beforeAll(async () => {
    const r = TestRepo.create();
    const t = incident2018(r);
    c.p = t.pr;
    c.m = t.merge;
    // In this era '.' (all of helm-chart/) counted, but not the image context '..'.
    c.docs = r.commit("README", { "README.md": "more\n" });
    c.helm = r.commit("helm-chart README", { "helm-chart/README.md": "chart docs\n" });
    w = await world(r, [{ version: `0.1.0-${h(c.p)}`, created: "2018-01-04T15:42:38Z" }], "2018-01-04T15:45:00Z");
  }, 60_000);
  afterAll(async () => {
    await closeWorld(w);
  });

  it("4e3bafb → 441f5ea: the merge's chart is the PR commit's, 0.1.0-<7 hex>", async () => {
    const a = await w.svc.answer("binderhub", { kind: "sha", sha: c.m! }, { pin: false });
    expect(a.chartCommit).toBe(c.p);
    expect(a.version).toBe(`0.1.0-${h(c.p!)}`);
    expect(a.computed).toBe(a.version);
    expect(a.published).toBe(true);
    expect(builderText(a.builder)).toContain("vendored build.py");
  });

  it("with no copy of the index at all, still answers the computed version and says publication is unknown", async () => {
    // no github, and nothing listens on the default index URL
    const { config } = parseConfig(chartBotYaml({ dataDir: w.dataDir, repoPath: w.repo.path }), "t.yaml", {});
    const svc = new ChartService({ config, store: w.store, log: silentLogger(), now: () => new Date(w.now.t) });
    try {
      const a = await svc.answer("binderhub", { kind: "sha", sha: c.m! }, { pin: false });
      expect(a.version).toBe(`0.1.0-${h(c.p!)}`);
      expect(a.published).toBe(false);
      expect(a.index.fetchedAt).toBeNull();
      expect(a.index.error).toBeTruthy();
    } finally {
      svc.close();
    }
  });

  it("'.' is the whole chart folder, and the image context does not count in this era", async () => {
    const docs = await w.svc.answer("binderhub", { kind: "sha", sha: c.docs! }, { pin: false });
    expect(docs.chartCommit).toBe(c.p);
    const helm = await w.svc.answer("binderhub", { kind: "sha", sha: c.helm! }, { pin: false });
    expect(helm.chartCommit).toBe(c.helm);
    expect(helm.version).toBe(`0.1.0-${h(c.helm!)}`);
    expect(helm.published).toBe(false);
    expect(helm.paths).toEqual(["binderhub", "helm-chart", "setup.py"]);
  });
});

describe("which paths counted depends on the chartpress of the time", () => {
  const CP = (rebuild: boolean) =>
    `charts:\n  - name: binderhub\n    images:\n      binderhub:\n        contextPath: ..\n        dockerfilePath: images/binderhub/Dockerfile\n${rebuild ? "" : "        rebuildOnContextPathChanges: false\n"}        paths:\n          - ../binderhub\n`;
  let r: TestRepo;
  const answers: Record<string, ShaAnswer> = {};
  let w: World;
  beforeAll(async () => {
    r = TestRepo.create();
    r.clock = Date.parse("2020-02-01T10:00:00Z") / 1000;
    r.commit("chart with chartpress 0.6", {
      "helm-chart/chartpress.yaml": CP(true),
      "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.2.0\n",
      "helm-chart/images/binderhub/Dockerfile": "FROM x\n",
      "binderhub/app.py": "1\n",
      "dev-requirements.txt": "pytest\nchartpress==0.6.*\n",
    });
    r.tag("0.2.0");
    const docs06 = r.commit("docs under chartpress 0.6", { "docs/a.md": "a\n" });
    r.clock = Date.parse("2020-11-05T10:00:00Z") / 1000;
    r.commit("chartpress 0.7 with rebuildOnContextPathChanges: false", {
      "helm-chart/chartpress.yaml": CP(false),
      "dev-requirements.txt": "pytest\nchartpress==0.7.*\n",
    });
    const chart07 = r.head();
    const docs07 = r.commit("docs under chartpress 0.7", { "docs/b.md": "b\n" });
    w = await world(r, [], "2020-11-05T12:00:00Z");
    answers.docs06 = await w.svc.answer("binderhub", { kind: "sha", sha: docs06 }, { pin: false });
    answers.docs07 = await w.svc.answer("binderhub", { kind: "sha", sha: docs07 }, { pin: false });
    answers.chart07 = await w.svc.answer("binderhub", { kind: "sha", sha: chart07 }, { pin: false });
  }, 60_000);
  afterAll(async () => {
    await closeWorld(w);
  });

  it("0.6: contextPath '..' counts, so a docs change is a chart commit; n/h format since the tag", () => {
    const a = answers.docs06!;
    expect(a.chartCommit).toBe(a.commit);
    expect(builderText(a.builder)).toContain("chartpress 0.6");
    expect(a.version).toBe(`0.2.0-n001.h${h(a.commit)}`);
  });

  it("0.7 with rebuildOnContextPathChanges: false: a docs change keeps the previous chart", () => {
    const a = answers.docs07!;
    expect(a.chartCommit).toBe(answers.chart07!.commit);
    expect(a.relation).toBe("outside-chart-paths");
    expect(a.version).toBe(`0.2.0-n002.h${h(answers.chart07!.commit)}`);
  });
});
