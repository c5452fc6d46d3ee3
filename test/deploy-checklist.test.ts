import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { say } from "./helpers/app.ts";
import { DEPLOY, type DeployWorld, deployWorld } from "./helpers/deploy.ts";

type Step = { text: string; check: string | null; mark: string | null; reason: string | null };
const steps = (data: unknown) => (data as { steps: Step[] }).steps;
const byCheck = (data: unknown, check: string) => steps(data).find((s) => s.check === check)!;

describe("!binder checklist: the shipped staging and prod lists with each step's live state", () => {
  let w: DeployWorld;
  let app: App;
  let tip = "";

  beforeAll(async () => {
    w = await deployWorld();
    app = await w.app();
    const ref = (await (await fetch(`${w.github.url}/repos/${DEPLOY}/git/ref/heads%2Fmain`)).json()) as {
      object: { sha: string };
    };
    tip = ref.object.sha;
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("without a name: the checklists there are", async () => {
    const r = await say(app, "!binder checklist");
    expect(r?.data).toEqual({ checklists: ["staging", "prod"] });
  });

  it("staging: ✗ unpublished tip and a pin behind, ✓ green staging jobs and a healthy site, ? no launch yet; next step named", async () => {
    const run = w.github.addRun(DEPLOY, { conclusion: "failure", head_sha: tip, run_number: 41 });
    w.github.addJob(run.id, { name: "staging-deploy", conclusion: "success", log: "ok\n" });
    w.github.addJob(run.id, {
      name: "prod-deploy (ovh2)",
      conclusion: "failure",
      log: "2024-10-24T10:00:00.0000000Z Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n2024-10-24T10:00:01.0000000Z ##[error]Process completed with exit code 1.\n",
    });
    const r = await say(app, "!binder checklist staging");
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    expect(byCheck(r?.data, "upstream-merged")).toMatchObject({ mark: "unknown" });
    expect(byCheck(r?.data, "upstream-merged").reason).toContain("#104");
    expect(byCheck(r?.data, "chart-published")).toMatchObject({ mark: "not-done" });
    expect(byCheck(r?.data, "chart-published").reason).toContain(
      `${w.v.v5} (chart commit ${w.c.v5.slice(0, 8)}) is not published yet`,
    );
    expect(byCheck(r?.data, "pin-bumped")).toMatchObject({
      mark: "not-done",
      reason: `${w.v.v1} is pinned; newest published is ${w.v.v4} (3 published versions behind)`,
    });
    expect(byCheck(r?.data, "deploy-green")).toMatchObject({
      mark: "done",
      reason: "run #41 failed, but not in jobs matching ^staging (failed: prod-deploy (ovh2))",
    });
    expect(byCheck(r?.data, "site-healthy")).toMatchObject({ mark: "done", reason: "/health ok" });
    expect(byCheck(r?.data, "test-launch")).toMatchObject({ mark: "unknown", reason: "not checked yet: `check staging`" });
    expect(r?.data).toMatchObject({ next: 2 });
    const text = renderPlain(r!);
    expect(text).toContain("✗ Wait for its chart to be published");
    expect(text).toContain("✓ The staging deploy is green");
    expect(text).toContain("? A test launch on staging works (!binder check staging) — not checked yet");
    expect(text).toContain("Next: step 2, Wait for its chart to be published");
  });

  it("prod: the failed prod job with its why verdict; a test launch after the deploy counts; person-only steps have no mark", async () => {
    expect((await say(app, "!binder check prod", { userId: "bob" }))?.ok).toBe(true);
    const r = await say(app, "!binder checklist prod", { userId: "bob" });
    expect(steps(r?.data)[0]).toMatchObject({ check: null, mark: null });
    expect(byCheck(r?.data, "deploy-green")).toMatchObject({ mark: "not-done" });
    expect(byCheck(r?.data, "deploy-green").reason).toMatch(/^run #41 failed in prod-deploy \(ovh2\); why: spurious/);
    expect(byCheck(r?.data, "test-launch")).toMatchObject({ mark: "done" });
    expect(byCheck(r?.data, "test-launch").reason).toMatch(/^launched in \d+ s, \d+ s ago$/);
    expect(renderPlain(r!)).toContain("• The dashboards look normal");
  });

  it("a deploy of another commit than the tip is '?', an unhealthy site '✗', an unreachable source '?' with the reason", async () => {
    w.github.addRun(DEPLOY, { conclusion: "success", head_sha: "f".repeat(40), run_number: 42 });
    w.prod.setHealth({ ok: false, checks: [{ service: "Docker registry", ok: false }] });
    w.github.failNext(`/repos/${DEPLOY}/contents`, 500, { times: 5 });
    const r = await say(app, "!binder checklist prod", { userId: "carol" });
    expect(byCheck(r?.data, "deploy-green")).toMatchObject({
      mark: "unknown",
      reason: `the last completed run #42 deployed ffffffff, not the tip ${tip.slice(0, 8)} of main (a deploy may be running)`,
    });
    expect(byCheck(r?.data, "site-healthy")).toMatchObject({
      mark: "not-done",
      reason: "/health unhealthy: Docker registry failing",
    });
    expect(byCheck(r?.data, "pin-bumped").mark).toBe("unknown");
    expect(byCheck(r?.data, "pin-bumped").reason).toMatch(/^the pin cannot be read/);
  });

  it("an unknown checklist, and a broken checklists file, are one clear line", async () => {
    expect((await say(app, "!binder checklist moon", { userId: "dan" }))?.error).toBe(
      "There is no checklist 'moon' (checklists: staging, prod).",
    );
    const file = join(w.dataDir, "lists.yaml");
    writeFileSync(file, "staging:\n  steps:\n    - text: x\n      check: site-healthy\n");
    const other = await w.app(`checklists: ${file}\n`);
    expect((await say(other, "!binder checklist staging", { userId: "dan" }))?.error).toBe(
      `${file}: staging.steps[0].site: site-healthy and test-launch need a site.`,
    );
  });
});
