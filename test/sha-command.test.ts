import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";
import { jsonLines, runCli } from "./helpers/cli.ts";
import { CHARTPRESS } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";

describe("!binder sha end to end (chat and ask --json)", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let github: FakeGitHub;
  let dataDir: string;
  let app: App;
  let yaml: string;
  const now = { t: 0 };
  const c: Record<string, string> = {};
  let published = "";
  /** The data of the answer for the merge commit, the same in chat and in `ask --json`. */
  const mergeAnswer = () => ({
    chart: "binderhub",
    commit: c.m,
    chartCommit: c.p,
    version: published,
    published: true,
    pinned: "1.0.0-0.dev.git.1.h00000001",
  });

  beforeAll(async () => {
    repo = TestRepo.create();
    repo.clock = Date.parse("2024-09-01T10:00:00Z") / 1000;
    repo.commit("chart", {
      "helm-chart/chartpress.yaml": CHARTPRESS,
      "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.0.1\n",
      "helm-chart/images/binderhub/Dockerfile": "FROM x\n",
      "binderhub/app.py": "1\n",
      ".github/workflows/publish.yml": "steps:\n  - run: pip install chartpress>=2.1\n",
    });
    repo.branch("fix");
    c.p = repo.commit("the fix", { "binderhub/app.py": "2\n" });
    repo.checkout("main");
    c.m = repo.merge("fix", "Merge pull request #395 from minrk/fix");
    c.late = repo.commit("another fix, just merged", { "binderhub/app.py": "3\n" });
    const count = Number(repo.git("rev-list", "--count", c.p));
    published = `1.0.0-0.dev.git.${count}.h${c.p.slice(0, 8)}`;
    index = await startIndexServer({
      body: indexYaml({
        binderhub: [
          { version: "1.0.0-0.dev.git.1.h00000001", created: "2024-08-30T00:00:00Z" },
          { version: published, created: repo.iso(-60) },
        ],
      }),
    });
    github = await startFakeGitHub();
    github.mergePull("jupyterhub/binderhub", 395, c.m);
    github.setFile(
      "jupyterhub/mybinder.org-deploy",
      "mybinder/Chart.yaml",
      `dependencies:\n  - name: binderhub\n    version: "1.0.0-0.dev.git.1.h00000001"\n    repository: https://jupyterhub.github.io/helm-chart\n`,
    );
    dataDir = mkdtempSync(join(tmpdir(), "binderbot-cmd-"));
    yaml = chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: index.url });
    now.t = (repo.clock + 5 * 60) * 1000; // five minutes after the last merge
    app = await testApp(yaml, { now: () => new Date(now.t) });
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await index.close();
    await github.close();
    rmSync(dataDir, { recursive: true, force: true });
    repo.remove();
  });

  it("answers the merge commit with the PR commit's chart, the pin line and how far behind the pin is", async () => {
    const r = await say(app, `!binder sha ${c.m!.slice(0, 7)}`);
    expect(r?.ok).toBe(true);
    const text = renderPlain(r!);
    expect(text).toContain(published);
    expect(text).toContain("identical to its parent");
    expect(text).toContain(`version: "${published}"`);
    expect(text).toContain("1 chart version behind");
    expect(r?.data).toMatchObject(mergeAnswer());
    expect(typeof r?.data?.publishedAt).toBe("string");
  });

  it("understands plain questions", async () => {
    const r = await say(app, "@binderbot which sha do I use for #395?");
    expect(r?.command).toBe("sha");
    expect(r?.data).toMatchObject({ commit: c.m, version: published, pr: 395 });
    const q = await say(app, `binderbot: what version is ${c.m!.slice(0, 7)}?`);
    expect(q?.data).toMatchObject({ version: published });
  });

  it("a chart name alone, or before a ref, names the chart; nothing means the tip of the default branch", async () => {
    const carol = { userId: "carol" }; // a user of its own: flood control counts per user
    const tip = await say(app, "!binder sha", carol);
    expect(tip?.ok, tip ? renderPlain(tip) : "").toBe(true);
    expect(tip?.data).toMatchObject({ chart: "binderhub", commit: c.late });
    expect((await say(app, "!binder sha binderhub", carol))?.data).toMatchObject({ chart: "binderhub", commit: c.late });
    expect((await say(app, `!binder sha binderhub ${c.m!.slice(0, 7)}`, carol))?.data).toMatchObject({
      commit: c.m,
      version: published,
    });
    expect((await say(app, "!binder sha jupyterhub 4e3bafb", carol))?.error).toBe(
      "There is no chart 'jupyterhub' (configured: binderhub).",
    );
  });

  it("an unpublished chart: minutes since the merge, the usual delay, and a waiter for this room", async () => {
    const r = await say(app, `!binder sha ${c.late!.slice(0, 8)}`, { room: "deploys", userId: "bob", thread: "t1" });
    expect(r?.ok).toBe(true);
    const text = renderPlain(r!);
    expect(text).toContain("not yet — merged 5 min ago");
    expect(text).toContain("I'll tell this room when it appears");
    const v = r?.data?.version as string;
    const w = await app.services.store.get<Record<string, unknown>>(`waiter:binderhub:${v}:test:deploys`);
    expect(w).toMatchObject({ chart: "binderhub", version: v, thread: "t1", who: ["bob"], chartCommit: c.late });
  });

  it("errors are one clear line", async () => {
    const r = await say(app, "!binder sha 0123456789abc");
    expect(r?.ok).toBe(false);
    expect(r?.error).toMatch(/^No commit 0123456789abc in jupyterhub\/binderhub/);
    github.setPull("jupyterhub/binderhub", 777, { state: "open" });
    const open = await say(app, "!binder sha #777");
    expect(open?.error).toBe("PR #777 is not merged yet: there is no chart for it until it is merged.");
    const bad = await say(app, "!binder sha --oops");
    expect(bad?.ok).toBe(false);
  });

  it("a local index file works; a copy generated before the merge says so instead of blaming the publish job", async () => {
    const file = join(dataDir, "index-copy.yaml");
    // an offline copy of the index, written the day before the first commit of the repository
    writeFileSync(file, indexYaml({ binderhub: [{ version: "1.0.0-0.dev.git.1.h00000001" }] }, "2024-08-31T00:00:00Z"));
    const offline = await testApp(chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: file }), {
      now: () => new Date(now.t + 3 * 24 * 3600_000), // three days later: "probably failed" territory
    });
    try {
      const r = await say(offline, `!binder sha ${c.late!.slice(0, 8)}`);
      expect(r?.ok).toBe(true);
      const text = renderPlain(r!);
      expect(text).toContain("the index copy is from 2024-08-31T00:00:00Z, older than this merge");
      expect(text).not.toContain("publish job");
      expect(r?.data?.index).toMatchObject({
        source: file,
        stale: true,
        olderThanMerge: true,
        generated: "2024-08-31T00:00:00Z",
      });
    } finally {
      await offline.close();
    }
  });

  it.each([
    [
      "a missing index file",
      (dir: string) => join(dir, "no-index.yaml"),
      (dir: string) => `no such file ${join(dir, "no-index.yaml")}`,
    ],
    ["an index URL that is not found", () => `${index.url}.missing`, () => "HTTP 404"],
  ])("%s: the answer says why the index could not be read", async (_name, where, why) => {
    const app2 = await testApp(chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: where(dataDir) }), {
      now: () => new Date(now.t),
    });
    try {
      const r = await say(app2, `!binder sha ${c.m!.slice(0, 7)}`);
      const text = renderPlain(r!);
      expect(text).toContain(`could not be read (${why(dataDir)}`);
      expect(r?.data?.index).toMatchObject({ fetchedAt: null, stale: true });
    } finally {
      await app2.close();
    }
  });

  it("ask --json prints the data", async () => {
    const cfg = join(dataDir, "cli.yaml");
    writeFileSync(cfg, yaml);
    const r = await runCli(["ask", "--config", cfg, "--json", `!binder sha ${c.m!.slice(0, 7)}`]);
    expect(r.code).toBe(0);
    const [line] = jsonLines(r.stdout);
    expect(line?.command).toBe("sha");
    expect(line?.data).toMatchObject(mergeAnswer());
  }, 60_000);
});
