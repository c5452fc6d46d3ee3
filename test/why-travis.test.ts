import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { FakeTravis } from "./fakes/travis.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";
import { incident2018 } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";
import { skipWhy } from "./helpers/skip.ts";

/*
 * The 2018-01-04 incident end to end: binderhub's history with the #395 topology (a merge whose
 * chart paths equal its PR commit's), a chart index holding only the PR commit's chart, PR #254 of
 * mybinder.org-deploy pinning the merge commit's version in mybinder/requirements.yaml, and the
 * Travis build that failed at `helm dep up`. The answer must name the chart that exists.
 */

const DEPLOY = "jupyterhub/mybinder.org-deploy";
const SHARED = resolve(import.meta.dirname, "../../shared");

function travisLog(pin: string): string {
  return `${[
    "travis_fold:start:worker_info",
    "Worker information",
    "travis_fold:end:worker_info",
    "$ git clone --depth=50 --branch=staging https://github.com/jupyterhub/mybinder.org-deploy.git",
    "travis_fold:start:install",
    "$ pip install --no-cache-dir pyyaml pytest requests",
    "Successfully installed pyyaml-3.12",
    "travis_fold:end:install",
    "$ python ./deploy.py staging",
    `# pinned binderhub ${pin}`,
    "Hang tight while we grab the latest from your chart repositories...",
    '...Unable to get an update from the "local" chart repository (http://127.0.0.1:8879/charts):',
    "\tGet http://127.0.0.1:8879/charts/index.yaml: dial tcp 127.0.0.1:8879: getsockopt: connection refused",
    '...Successfully got an update from the "jupyterhub" chart repository',
    "Update Complete. ⎈Happy Helming!⎈",
    "Error: Can't get a valid version for repositories binderhub. Try changing the version constraint in requirements.yaml",
    "Traceback (most recent call last):",
    '  File "./deploy.py", line 43, in <module>',
    "subprocess.CalledProcessError: Command '['helm', 'dep', 'up']' returned non-zero exit status 1.",
    "",
    'The command "python ./deploy.py staging" exited with 1.',
    "",
    "Done. Your build exited with 1.",
  ].join("\n")}\n`;
}

const requirements = (version: string) =>
  `dependencies:\n  - name: binderhub\n    version: ${version}\n    repository: https://jupyterhub.github.io/helm-chart\n`;

describe("!binder why on Travis CI: the 2018 incident end to end", () => {
  const c: Record<string, string> = {};
  const h = (sha: string) => sha.slice(0, 7);
  let repo: TestRepo;
  let index: IndexServer;
  let gh: FakeGitHub;
  let travis: FakeTravis;
  let app: App;
  let dataDir: string;
  const now = { t: Date.parse("2018-01-04T16:10:00Z") };
  const deploySha = "cd4a14c9be88e9edefa0890abe0841ace5e41ef1";
  const laterSha = "d".repeat(40);

  beforeAll(async () => {
    repo = TestRepo.create();
    const t = incident2018(repo);
    c.p = t.pr;
    c.m = t.merge;
    // merged minutes before "now": its chart is not published yet
    repo.clock = now.t / 1000 - 4 * 60;
    c.fresh = repo.commit("helm-chart: new value", { "helm-chart/binderhub/values.yaml": "x: 1\n" });

    index = await startIndexServer({
      body: indexYaml({ binderhub: [{ version: `0.1.0-${h(c.p)}`, created: "2018-01-04T15:42:38Z" }] }),
    });

    gh = await startFakeGitHub({ now: () => new Date(now.t) });
    gh.setRepo(DEPLOY, { default_branch: "staging" });
    gh.setPull(DEPLOY, 254, { title: "Bump binderhub", head: { sha: "e".repeat(40), ref: "bump" } });
    gh.mergePull(DEPLOY, 254, deploySha);
    gh.setFile(DEPLOY, "mybinder/requirements.yaml", requirements(`0.1.0-${h(c.m)}`), deploySha);
    gh.setFile(DEPLOY, "mybinder/requirements.yaml", requirements(`0.1.0-${h(c.fresh)}`), laterSha);

    travis = await new FakeTravis({ slug: DEPLOY }).start();
    travis.builds.push(
      {
        id: 325095000,
        number: "499",
        state: "passed",
        branch: "staging",
        sha: "a".repeat(40),
        startedAt: "2018-01-04T14:00:00Z",
        jobs: [{ id: 325095001, state: "passed", log: "ok\n" }],
      },
      {
        id: 325095814,
        number: "500",
        state: "errored",
        branch: "staging",
        sha: deploySha,
        startedAt: "2018-01-04T16:03:00Z",
        jobs: [{ id: 325095815, state: "errored", log: travisLog(`0.1.0-${h(c.m)}`) }],
      },
    );

    dataDir = mkdtempSync(join(tmpdir(), "binderbot-why-"));
    app = await testApp(
      chartBotYaml({
        dataDir,
        githubUrl: gh.url,
        repoPath: repo.path,
        indexUrl: index.url,
        extra: `  branch: staging\n  ci: travis\n  travisApiUrl: ${travis.url}`,
      }),
      { now: () => new Date(now.t) },
    );
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await travis?.close();
    await gh?.close();
    await index?.close();
    repo?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("`why #254`: legitimate, the helm line, and the chart that was meant (the PR commit's, not the merge's)", async () => {
    const r = await say(app, "!binder why #254");
    const t = r ? renderPlain(r) : "";
    expect(r?.ok, t).toBe(true);
    expect(r?.data).toMatchObject({
      runId: "325095814",
      provider: "travis",
      pr: 254,
      verdict: "legitimate",
      signature: "H01",
      line: 16,
      retrySuggested: false,
      chart: {
        chart: "binderhub",
        version: `0.1.0-${h(c.m!)}`,
        pinFile: "mybinder/requirements.yaml",
        kind: "merge-commit",
        correct: { version: `0.1.0-${h(c.p!)}`, published: true },
      },
    });
    expect(t).toMatch(
      new RegExp(
        `0\\.1\\.0-${h(c.m!)} names ${h(c.m!)}[0-9a-f]*, the merge commit of #395; its chart is 0\\.1\\.0-${h(c.p!)}, published`,
      ),
    );
    expect(t).toContain(`Pin 0.1.0-${h(c.p!)} in mybinder/requirements.yaml instead`);
    expect(t).toContain("Can't get a valid version for repositories binderhub");
    expect(t).not.toMatch(/re-run the failed jobs/);
    // the pin was read at the run's commit
    const reads = gh.requests.filter((q) => decodeURIComponent(q.path).endsWith("/contents/mybinder/requirements.yaml"));
    expect(reads.map((q) => q.query.ref)).toContain(deploySha);
  });

  it("`why` alone finds the same build as the latest failure on the deploy branch", async () => {
    const r = await say(app, "!binder why");
    expect(r?.data).toMatchObject({ runId: "325095814", verdict: "legitimate", signature: "H01" });
    expect(travis.requests.every((q) => q.path.startsWith("/archive/") || q.headers["travis-api-version"] === "3")).toBe(true);
  });

  it("a chart merged minutes ago: still publishing, and this room will be told when it appears", async () => {
    travis.builds.push({
      id: 325096000,
      number: "501",
      state: "failed",
      branch: "staging",
      sha: laterSha,
      startedAt: "2018-01-04T16:08:00Z",
      jobs: [{ id: 325096001, state: "failed", log: travisLog(`0.1.0-${h(c.fresh!)}`) }],
    });
    const r = await say(app, `!binder why https://travis-ci.org/${DEPLOY}/builds/325096000`);
    const t = r ? renderPlain(r) : "";
    expect(r?.data).toMatchObject({
      runId: "325096000",
      verdict: "legitimate",
      chart: { kind: "not-published-yet", waiting: true },
    });
    expect(t).toMatch(/still publishing; I will tell this room when it appears/);
    const waiter = await app.services.store.get<{ version: string; room: string }>(
      `waiter:binderhub:0.1.0-${h(c.fresh!)}:test:room1`,
    );
    expect(waiter).toMatchObject({ version: `0.1.0-${h(c.fresh!)}`, room: "room1" });
  });

  it.skipIf(!existsSync(join(SHARED, "data/ci-logs/travis-01-2018-01-04-wrong-chart-version.log")))(
    `the reconstructed 2018 log (../shared, when present) gives the same answer through the Travis API${skipWhy(existsSync(join(SHARED, "data/ci-logs/travis-01-2018-01-04-wrong-chart-version.log")), "no ../shared/data/ci-logs")}`,
    async () => {
      const log = readFileSync(join(SHARED, "data/ci-logs/travis-01-2018-01-04-wrong-chart-version.log"), "utf8");
      const expected = readFileSync(join(SHARED, "data/ci-logs/EXPECTED.tsv"), "utf8")
        .split("\n")
        .map((l) => l.split("\t"))
        .find((f) => f[0] === "travis-01-2018-01-04-wrong-chart-version.log") as string[];
      (travis.builds.find((b) => b.id === 325095814)?.jobs[0] as { log: string }).log = log;
      const r = await say(app, "!binder why 325095814");
      expect(r?.data).toMatchObject({
        verdict: expected[1],
        signature: expected[2],
        line: Number(expected[3]),
        chart: { kind: "merge-commit", correct: { version: `0.1.0-${h(c.p!)}` } },
      });
    },
  );
});
