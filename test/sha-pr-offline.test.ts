import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";
import { incident2018 } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";

// When GitHub cannot be asked which commit merged a PR, the history usually says it: GitHub's
// "Merge pull request #n from …" subject, or a squash merge's "… (#n)".
describe("sha #PR when GitHub cannot answer", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let github: FakeGitHub;
  let dataDir: string;
  let c: { base: string; pr: string; merge: string };
  let squash: string;
  let offline: App;
  let online: App;

  beforeAll(async () => {
    repo = TestRepo.create();
    c = incident2018(repo);
    squash = repo.commit("Serve fonts locally (#812)", { "binderhub/static/fonts.css": "c\n" });
    repo.commit("Docs: mention #812 (#813)", { "README.md": "docs\n" });
    index = await startIndexServer({ body: indexYaml({ binderhub: [{ version: `0.1.0-${c.pr.slice(0, 7)}` }] }) });
    github = await startFakeGitHub();
    dataDir = mkdtempSync(join(tmpdir(), "bb-offline-"));
    const base = { dataDir, repoPath: repo.path, indexUrl: index.url };
    offline = await testApp(chartBotYaml({ ...base, githubUrl: "http://127.0.0.1:9" }));
    online = await testApp(chartBotYaml({ ...base, githubUrl: github.url }));
  });

  afterAll(async () => {
    await offline.close();
    await online.close();
    await github.close();
    await index.close();
    rmSync(dataDir, { recursive: true, force: true });
    repo.remove();
  });

  it("finds a merge commit by its subject and says GitHub was not asked", async () => {
    const r = await say(offline, "!binder sha #395");
    const text = renderPlain(r!);
    expect(r?.ok, text).toBe(true);
    expect(r?.data).toMatchObject({ commit: c.merge, chartCommit: c.pr, version: `0.1.0-${c.pr.slice(0, 7)}`, published: true });
    expect(text).toContain("found the merge of #395 in the history instead");
  });

  it("finds a squash merge by its '(#n)' suffix, not a later commit that only mentions it", async () => {
    const r = await say(offline, "!binder sha #812");
    expect(r?.data).toMatchObject({ commit: squash, chartCommit: squash });
  });

  it("says GitHub is unreachable when the history has no such PR", async () => {
    const r = await say(offline, "!binder sha #9999");
    expect(r?.ok).toBe(false);
    expect(r?.error).toMatch(/GitHub unreachable/);
  });

  it("does not second-guess GitHub when it answers that the PR does not exist", async () => {
    const r = await say(online, "!binder sha #812");
    expect(r?.ok).toBe(false);
    expect(r?.error).toMatch(/not found/i);
  });

  it("uses GitHub's answer when GitHub answers, and rate limits fall back to the history", async () => {
    github.mergePull("jupyterhub/binderhub", 395, c.merge);
    const r = await say(online, "!binder sha #395");
    expect(r?.data).toMatchObject({ commit: c.merge });
    expect(renderPlain(r!)).not.toContain("in the history instead");
    github.rateLimitNext("primary", { match: /\/pulls\/395$/, resetInS: 3600, times: 5 });
    const limited = await say(online, "!binder sha #395");
    expect(limited?.data).toMatchObject({ commit: c.merge });
    expect(renderPlain(limited!)).toContain("found the merge of #395 in the history instead");
  });
});
