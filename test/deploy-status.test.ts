import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import type { StatusData } from "../src/commands/status.ts";
import { renderPlain } from "../src/core/render.ts";
import { say } from "./helpers/app.ts";
import { CHART_FILE, DEPLOY, type DeployWorld, deployChartYaml, deployWorld } from "./helpers/deploy.ts";

const LEGIT_LOG = [
  "2024-10-24T10:00:00.0000000Z ##[group]Run python deploy.py staging",
  '2024-10-24T10:00:01.0000000Z Error: can\'t get a valid version for 1 subchart(s): "binderhub" (repository "https://jupyterhub.github.io/helm-chart/", version "1.0.0-0.dev.git.3506.hba24eb2a")',
  "2024-10-24T10:00:02.0000000Z ##[error]Process completed with exit code 1.",
  "",
].join("\n");

describe("!binder status against a fake GitHub, a chart repository, its index and two BinderHubs", () => {
  let w: DeployWorld;
  let app: App;

  beforeAll(async () => {
    w = await deployWorld();
    app = await w.app();
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("pinned vs newest, the published versions and upstream PRs between, the last run with its verdict, the sites", async () => {
    const run = w.github.addRun(DEPLOY, { conclusion: "failure", run_number: 812 });
    w.github.addJob(run.id, { name: "deploy (staging)", conclusion: "failure", log: LEGIT_LOG });
    w.prod.setHealth({
      ok: false,
      checks: [
        { service: "Docker registry", ok: false },
        { service: "JupyterHub API", ok: true },
        { service: "Pod quota", ok: false, _ignore_failure: true },
      ],
    });

    const r = await say(app, "!binder status");
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    const data = r?.data as StatusData;
    expect(data.charts).toEqual([
      expect.objectContaining({
        chart: "binderhub",
        pinned: w.v.v1,
        newest: w.v.v4,
        versionsBehind: 3,
        prs: [
          expect.objectContaining({ number: 103, title: "Quota per repository" }),
          expect.objectContaining({ number: 99, title: "Docs only" }),
          expect.objectContaining({ number: 102, title: "Fix the health check" }),
          expect.objectContaining({ number: 101, title: "Use a faster builder" }),
        ],
      }),
    ]);
    expect(data.lastRun).toMatchObject({
      id: String(run.id),
      conclusion: "failure",
      failedJobs: ["deploy (staging)"],
      verdict: { kind: "legitimate" },
    });
    expect(data.sites).toEqual([
      expect.objectContaining({ site: "staging", ok: true, error: null }),
      expect.objectContaining({ site: "prod", ok: false, status: 503 }),
    ]);
    const text = renderPlain(r!);
    expect(text).toContain(`Pinned: ${w.v.v1}`);
    expect(text).toContain("3 published versions behind");
    expect(text).toMatch(/#101 .*pull\/101\) Use a faster builder/);
    expect(text).toMatch(/run #812 .*failed in deploy \(staging\); why: legitimate/);
    expect(text).toContain("prod");
    expect(text).toContain("unhealthy: Docker registry failing"); // the soft pod quota is not listed
    expect(text).not.toContain("Pod quota");
  });

  it("one source down never hides the others: an unreachable site and a missing chart file are said, the rest answers", async () => {
    w.github.setFile(DEPLOY, CHART_FILE, null, "main");
    await w.staging.close();
    const r = await say(app, "!binder status", { userId: "bob" });
    expect(r?.ok).toBe(true);
    const data = r?.data as StatusData;
    expect(data.charts[0]).toMatchObject({ pinned: null, newest: w.v.v4 });
    expect(data.charts[0]?.pinError).toContain(CHART_FILE);
    expect(data.sites[0]).toMatchObject({ site: "staging", ok: null });
    // Refused, or a kept-alive connection found closed: either way the reason is said.
    expect(data.sites[0]?.error).toMatch(/ECONNREFUSED|UND_ERR_SOCKET/);
    expect(renderPlain(r!)).toMatch(/staging .*: unknown \((connect ECONNREFUSED [\d.:]+|ECONNREFUSED|UND_ERR_SOCKET: )/);
    w.github.setFile(DEPLOY, CHART_FILE, deployChartYaml(w.v.v4), "main");
    const up = await say(app, "!binder status", { userId: "carol" });
    expect((up!.data as StatusData).charts[0]).toMatchObject({ pinned: w.v.v4, versionsBehind: 0, prs: [] });
    expect(renderPlain(up!)).toContain("up to date");
  });
});
