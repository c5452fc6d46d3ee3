import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import { renderPlain } from "../src/core/render.ts";
import { diagnose } from "../src/diagnose/index.ts";
import { openStore } from "../src/store/store.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, say } from "./helpers/app.ts";
import { silentLogger } from "./helpers/log.ts";

/**
 * `why` takes the CI API's conclusion as ground truth (issue #8): a job GitHub reports as failed is never
 * called a success, even when its log (cut short, or from a step that failed without a marker) reads like one.
 */

const DEPLOY = "jupyterhub/mybinder.org-deploy";

function ghaLog(lines: string[]): string {
  const start = Date.parse("2024-10-24T10:00:00Z");
  return `${lines.map((l, i) => `${new Date(start + i * 1000).toISOString().replace("Z", "0000Z")} ${l}`).join("\n")}\n`;
}

/** Reads like a passing deploy: no marker, no error line, a rollout that finished. */
const LOOKS_FINE = ghaLog([
  "##[group]Run python deploy.py staging",
  'Release "staging" has been upgraded. Happy Helming!',
  'deployment "hub" successfully rolled out',
  "Post job cleanup.",
  "Cleaning up orphan processes",
]);

describe("why: the CI's conclusion is ground truth", () => {
  let gh: FakeGitHub;
  let app: App;

  beforeEach(async () => {
    gh = await startFakeGitHub({ now: () => new Date(Date.parse("2024-10-24T12:00:00Z")) });
    gh.setRepo(DEPLOY);
    const loaded = parseConfig(chartBotYaml({ githubUrl: gh.url }), "test.yaml", {});
    app = await createApp(loaded, {
      log: silentLogger(),
      store: await openStore("memory", "."),
      now: () => new Date(Date.parse("2024-10-24T12:00:00Z")),
    });
  });
  afterEach(async () => {
    await app?.close();
    await gh.close();
  });

  it("a failed job whose log reads like a success is unknown, with its last lines, never a success", async () => {
    // the engine alone, without the CI's word, would call this log a success
    expect(diagnose(LOOKS_FINE).verdict).toBe("success");
    const r = gh.addRun(DEPLOY, { conclusion: "failure", created_at: "2024-10-24T10:00:00Z" });
    gh.addJob(r.id, { name: "deploy", conclusion: "failure", log: LOOKS_FINE });
    const a = await say(app, `!binder why ${r.id}`);
    const t = renderPlain(a!);
    expect(a?.data).toMatchObject({ verdict: "unknown", signature: null, retrySuggested: false });
    expect(a?.data?.text).toBeNull();
    expect(t).not.toContain("Decisive line");
    expect(t).toMatch(/ failed: unknown/);
    expect(a?.data?.context).toEqual(expect.arrayContaining(['deployment "hub" successfully rolled out']));
    expect(t).toContain("I could not classify this failure");
    expect(t).toContain("the CI reports this job failed, but its log shows no failure marker");
  });
});
