import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChartService } from "../src/charts/answer/service.ts";
import { builderText, chartErrorLine } from "../src/commands/sha-text.ts";
import { ConfigError, parseConfig } from "../src/config/load.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartServiceFor } from "./helpers/chart-service.ts";
import { TestRepo } from "./helpers/git.ts";

// z2jh's build.py of December 2017, at the repository root: the hash from `git log -- .`.
const ROOT_BUILD_PY = `#!/usr/bin/env python3
import os
import subprocess

def last_modified_commit(*paths, **kwargs):
    return subprocess.check_output(['git', 'log', '-n', '1', '--pretty=format:%h', *paths], **kwargs).decode('utf-8')

def build_chart(name, version=None):
    if version is None:
        version = chart['version'] + '-' + last_modified_commit('.')
`;

const CHARTPRESS_YAML = `charts:
  - name: jupyterhub
    imagePrefix: jupyterhub/k8s-
    images:
      hub:
        valuesPath: hub.image
`;

// ci/publish as z2jh ran it from 2020: pushes to main with --long, tag pushes with --tag.
const PUBLISH = `#!/bin/bash
if [[ $GITHUB_REF != refs/tags/* ]]; then
    chartpress --push --publish-chart --long
else
    chartpress --push --publish-chart --tag "\${GITHUB_REF:10}"
fi
`;

describe("a chart with chartpress.yaml at the repository root (z2jh), found without configuration", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let svc: ChartService;
  let world: Awaited<ReturnType<typeof chartServiceFor>>;
  const c: Record<string, string> = {};

  beforeAll(async () => {
    repo = TestRepo.create();
    repo.clock = Date.parse("2017-12-04T10:00:00Z") / 1000;
    c.docs = repo.commit("docs only, before the chart came in", { "doc/index.rst": "a\n" });
    c.buildPy = repo.commit("the chart and its build script", {
      "build.py": ROOT_BUILD_PY,
      "jupyterhub/Chart.yaml": "name: jupyterhub\nversion: v0.5.0\n",
    });
    c.docs2 = repo.commit("a docs change still made a chart: CI ran git log -- . from the root", { "doc/index.rst": "b\n" });
    repo.clock = Date.parse("2020-11-20T10:00:00Z") / 1000;
    c.chartpress = repo.commit("chartpress", {
      "build.py": null,
      "chartpress.yaml": CHARTPRESS_YAML,
      "dev-requirements.txt": "chartpress==0.7.*\n",
      "ci/publish": PUBLISH,
      "images/hub/Dockerfile": "FROM python\n",
    });
    repo.tag("0.10.4", "HEAD", true);
    c.fix = repo.commit("a chart fix", { "jupyterhub/values.yaml": "a: 1\n" });
    // The release commit's tag made a minute after it: CI built the push before the tag existed.
    c.release = repo.commit("Use non-deprecated auth configuration", { "jupyterhub/values.yaml": "a: 2\n" });
    repo.tick();
    repo.tag("0.10.6", "HEAD", true);
    c.after = repo.commit("docs after the release", { "doc/index.rst": "c\n" });
    const h = (s: string) => s.slice(0, 8);
    index = await startIndexServer({
      body: indexYaml({
        jupyterhub: [
          { version: `v0.5.0-${c.buildPy!.slice(0, 7)}`, created: "2017-12-04T10:05:00Z" },
          { version: `v0.5.0-${c.docs2!.slice(0, 7)}`, created: "2017-12-04T10:10:00Z" },
          { version: `0.10.4-n001.h${h(c.fix!)}`, created: "2020-11-20T10:10:00Z" },
          { version: `0.10.4-n002.h${h(c.release!)}`, created: "2020-11-20T10:12:00Z" },
          { version: "0.10.6", created: "2020-11-20T10:14:00Z" },
          { version: `0.10.6-n000.h${h(c.release!)}`, created: "2020-11-20T10:16:00Z" },
        ],
      }),
    });
    world = await chartServiceFor({
      chart: "jupyterhub",
      github: "jupyterhub/zero-to-jupyterhub-k8s",
      repoPath: repo.path,
      indexUrl: index.url,
      now: new Date("2020-11-21T00:00:00Z"),
    });
    svc = world.svc;
  });

  afterAll(async () => {
    await world.close();
    await index.close();
    repo.remove();
  });

  const ask = (sha: string) => svc.answer("jupyterhub", { kind: "sha", sha }, { pin: false });

  it("the build.py at the root, before chartpress.yaml: <Chart.yaml version>-<sha7> of any change", async () => {
    const a = await ask(c.docs2!);
    expect(a.chartCommit).toBe(c.docs2);
    expect(a.version).toBe(`v0.5.0-${c.docs2!.slice(0, 7)}`);
    expect(a.published).toBe(true);
    expect(builderText(a.builder)).toContain("the vendored build.py (before chartpress.yaml)");
  });

  it("chartpress.yaml at the root: the chart paths are relative to the root", async () => {
    const a = await ask(c.fix!);
    expect(a.paths).toEqual(["chartpress.yaml", "images/hub", "images/hub/Dockerfile", "jupyterhub"]);
    expect(a.version).toBe(`0.10.4-n001.h${c.fix!.slice(0, 8)}`);
    expect(a.computed).toBe(a.version);
  });

  it("a release tag made after its commit was pushed does not count for that commit's own build", async () => {
    const a = await ask(c.release!);
    expect(a.version).toBe(`0.10.4-n002.h${c.release!.slice(0, 8)}`);
    expect(a.computed).toBe(a.version);
  });

  it("later builds see the tag: the next commit's chart is <tag>-n000 (--long)", async () => {
    const a = await ask(c.after!);
    expect(a.chartCommit).toBe(c.release);
    expect(a.version).toBe(`0.10.6-n000.h${c.release!.slice(0, 8)}`);
    expect(a.computed).toBe(a.version);
  });

  it("before the chart existed there is none, and the answer says where it looked", async () => {
    await expect(ask(c.docs!).catch(chartErrorLine)).resolves.toMatch(
      /no chartpress.yaml \(nor a build.py\) next to jupyterhub\/Chart.yaml in the root or a top-level folder/,
    );
  });
});

describe("config: the folder of chartpress.yaml", () => {
  const chart = (extra: string) =>
    `charts: [{ name: jupyterhub, github: a/b, git: /x, index: /i.yaml${extra} }]\ndeploy: { github: a/c }\n`;

  it("rejects the old chartDir with what to write instead", () => {
    expect(() => parseConfig(chart(", chartDir: helm-chart"), "c.yaml", {})).toThrow(ConfigError);
    expect(() => parseConfig(chart(", chartDir: helm-chart"), "c.yaml", {})).toThrow(
      /charts\[0\]\.chartDir: 'chartDir' is gone: binderbot finds chartpress.yaml .* by itself.*chartpressDir: "helm-chart"/,
    );
  });

  it("takes chartpressDir to fix it, and leaves it out by default", () => {
    expect(parseConfig(chart(", chartpressDir: deploy/helm"), "c.yaml", {}).config.charts[0]?.chartpressDir).toBe("deploy/helm");
    expect(parseConfig(chart(""), "c.yaml", {}).config.charts[0]?.chartpressDir).toBeUndefined();
  });
});
