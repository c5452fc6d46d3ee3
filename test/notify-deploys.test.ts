import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, sayText, testApp } from "./helpers/app.ts";

const DEPLOY = "jupyterhub/mybinder.org-deploy";
const ts = (i: number) => new Date(Date.parse("2024-10-24T10:00:00Z") + i * 1000).toISOString().replace("Z", "0000Z");
const log = (lines: string[]) => `${lines.map((l, i) => `${ts(i)} ${l}`).join("\n")}\n`;
const WAIT_TIMEOUT = "Error: UPGRADE FAILED: timed out waiting for the condition";
const SPURIOUS = log([
  "##[group]Run python deploy.py staging",
  WAIT_TIMEOUT,
  "subprocess.CalledProcessError: Command '['helm', 'upgrade']' returned non-zero exit status 1.",
  "##[error]Process completed with exit code 1.",
]);

/** The deploy watcher and the watch/unwatch/watching commands, against a fake GitHub. */
describe("deploy runs that end, and subscriptions at run time", () => {
  let gh: FakeGitHub;
  let app: App;
  const said: Array<{ to: string; text: string }> = [];
  const at = (min: number) => new Date(Date.parse("2024-10-24T10:00:00Z") + min * 60_000).toISOString();

  beforeEach(async () => {
    said.length = 0;
    gh = await startFakeGitHub({ now: () => new Date("2024-10-24T12:00:00Z") });
    gh.setRepo(DEPLOY);
    const extra = [
      "flood: { max: 0 }",
      "notify:",
      '  rooms: { "test:ops": [deploys] }',
      '  schedules: { index: "", deploys: "", behind: "" }',
      "",
    ].join("\n");
    app = await testApp(`${chartBotYaml({ githubUrl: gh.url })}${extra}`, { now: () => new Date("2024-10-24T12:00:00Z") });
    await app.services.notify.outbox.start(async (to, reply) => {
      said.push({ to: `${to.platform}:${to.room}`, text: renderPlain(reply) });
    });
  });
  afterEach(async () => {
    await app.close();
    await gh.close();
  });

  const poll = async () => {
    await app.services.notify.deploys.poll();
    await app.services.notify.outbox.drain();
  };

  it("announces each run that ended once: success, and failure with the verdict, decisive line and advice", async () => {
    const old = gh.addRun(DEPLOY, { conclusion: "success", created_at: at(0) });
    gh.addJob(old.id, { name: "deploy", conclusion: "success", log: "ok\n" });
    await poll(); // the first poll records what there is
    expect(said).toEqual([]);

    const ok = gh.addRun(DEPLOY, { conclusion: "success", created_at: at(10), run_number: 41 });
    gh.addJob(ok.id, { name: "deploy", conclusion: "success", log: "ok\n" });
    const bad = gh.addRun(DEPLOY, { conclusion: "failure", created_at: at(20), run_number: 42 });
    gh.addJob(bad.id, { name: "deploy (staging)", conclusion: "failure", log: SPURIOUS });
    const running = gh.addRun(DEPLOY, { status: "in_progress", conclusion: null, created_at: at(30), run_number: 43 });
    await poll();
    await poll();
    expect(said.map((s) => s.to)).toEqual(["test:ops", "test:ops"]);
    expect(said[0]?.text).toMatch(/^jupyterhub\/mybinder.org-deploy deploy run #41 \(https:\/\/github.com\S+\) succeeded\.$/);
    expect(said[1]?.text).toMatch(/deploy run #42 \(\S+\) failed in deploy \(staging\)/);
    expect(said[1]?.text).toContain("spurious failure: re-running the failed jobs is advised");
    expect(said[1]?.text).toContain(`Decisive line: ${WAIT_TIMEOUT}`);

    gh.updateRun(running.id, { status: "completed", conclusion: "success" });
    await poll();
    expect(said).toHaveLength(3);
    expect(said[2]?.text).toMatch(/deploy run #43 \(\S+\) succeeded\./);
  });

  it("!binder watch / unwatch / watching change and show what a room is told (stored)", async () => {
    const ops = { room: "ops" };
    expect(await sayText(app, "!binder watching", ops)).toContain("is told unasked about: deploys.");
    expect(await sayText(app, "!binder watch charts", ops)).toContain("about: charts, deploys.");
    expect(await sayText(app, "!binder unwatch deploys", ops)).toContain("about: charts.");
    expect(await sayText(app, "!binder watch all", { room: "dev" })).toContain("about: charts, deploys, behind.");
    expect(await sayText(app, "!binder watch nonsense", ops)).toContain("'nonsense' is not something I can watch");
    expect((await app.services.notify.subscriptions.rooms("deploys")).map((t) => t.room)).toEqual(["dev"]);
    expect(await sayText(app, "!binder unwatch all", { room: "dev" })).toContain("is told nothing unasked");
  });
});
