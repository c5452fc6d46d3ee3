import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { renderPlain } from "../src/core/render.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";
import { TestRepo } from "./helpers/git.ts";
import { prRepo } from "./helpers/notify.ts";

/** The index watcher and the waiters, in process, with a clock the test moves. */
describe("index watcher and waiters", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let github: FakeGitHub;
  let dataDir: string;
  let t: ReturnType<typeof prRepo>;
  let app: App;
  const now = { t: 0 };
  const said: Array<{ to: string; text: string }> = [];

  const publish = (...more: Array<{ version: string; created?: string }>) =>
    index.setBody(indexYaml({ binderhub: [t.existing, ...more.map((m) => ({ created: repo.iso(60), ...m }))] }));
  const poll = async () => {
    await app.services.notify.index.poll();
    await app.services.notify.outbox.drain();
  };

  beforeAll(async () => {
    repo = TestRepo.create();
    t = prRepo(repo);
    index = await startIndexServer({ body: indexYaml({ binderhub: [t.existing] }) });
    github = await startFakeGitHub();
    dataDir = mkdtempSync(join(tmpdir(), "bb-notify-watch-"));
  });
  beforeEach(async () => {
    await app?.close();
    publish();
    said.length = 0;
    now.t = (repo.clock + 9 * 60) * 1000; // nine minutes after the merge
    const extra = [
      "notify:",
      '  rooms: { "test:ops": [charts], "test:quiet": [deploys], "test:lead": [behind] }',
      '  schedules: { index: "", deploys: "", behind: "" }',
      "  waiterTtl: 1h",
      "",
    ].join("\n");
    app = await testApp(`${chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: index.url })}${extra}`, {
      now: () => new Date(now.t),
    });
    await app.services.notify.outbox.start(async (to, reply) => {
      said.push({ to: `${to.platform}:${to.room}${to.thread ? `/${to.thread}` : ""}`, text: renderPlain(reply) });
    });
    await poll(); // the first poll records what is there
  });
  afterAll(async () => {
    await app?.close();
    await index.close();
    await github.close();
    rmSync(dataDir, { recursive: true, force: true });
    repo.remove();
  });

  it("the first poll announces nothing; a new entry is one message to the subscribed room, with its PR", async () => {
    expect(said).toEqual([]);
    publish({ version: t.published });
    await poll();
    await poll();
    expect(said).toHaveLength(1);
    expect(said[0]?.to).toBe("test:ops");
    expect(said[0]?.text).toBe(
      `binderhub ${t.published} is published (PR #1887 "Make the builder faster", merged 9 minutes ago). Pin: version: "${t.published}"`,
    );
  });

  it("several new versions in one poll fold into one message", async () => {
    publish({ version: t.published }, { version: "1.0.0-0.dev.git.9.habcdef12" });
    await poll();
    expect(said).toHaveLength(1);
    expect(said[0]?.text).toContain(t.published);
    expect(said[0]?.text).toContain("1.0.0-0.dev.git.9.habcdef12 is published.");
  });

  it("an index answering 500 loses nothing and doubles nothing", async () => {
    publish({ version: t.published });
    index.failNext(500);
    await poll();
    expect(said).toEqual([]);
    await poll();
    await poll();
    expect(said).toHaveLength(1);
  });

  it("a waiter from `sha` fires once, in its thread, naming who asked, and is removed", async () => {
    const asked = await say(app, `!binder sha ${t.merge.slice(0, 7)}`, {
      room: "dev",
      thread: "T1",
      userId: "U1",
      displayName: "Alice",
    });
    expect(asked ? renderPlain(asked) : "").toContain("tell this room");
    publish({ version: t.published });
    await poll();
    await poll();
    const toAlice = said.filter((s) => s.to === "test:dev/T1");
    expect(toAlice).toHaveLength(1);
    expect(toAlice[0]?.text).toContain(`Alice: you asked to be told. binderhub ${t.published} is published (PR #1887`);
    const left = [];
    for await (const e of app.services.store.entries("waiter:")) left.push(e);
    expect(left).toEqual([]);
  });

  it("a waiter expires after notify.waiterTtl with nothing sent", async () => {
    await say(app, `!binder sha ${t.merge.slice(0, 7)}`, { room: "dev", userId: "U2", displayName: "Bob" });
    now.t += 61 * 60_000;
    publish({ version: t.published });
    await poll();
    expect(said.filter((s) => s.to.startsWith("test:dev"))).toEqual([]);
    expect(said.map((s) => s.to)).toEqual(["test:ops"]);
  });

  it("the daily check says how many versions the deploy is behind, with the PRs, once a day", async () => {
    github.setFile(
      "jupyterhub/mybinder.org-deploy",
      "mybinder/Chart.yaml",
      `dependencies:\n  - name: binderhub\n    version: "${t.existing.version}"\n    repository: https://jupyterhub.github.io/helm-chart\n`,
    );
    publish({ version: t.published });
    await app.services.notify.behind.check();
    await app.services.notify.behind.check();
    await app.services.notify.outbox.drain();
    const lead = said.filter((s) => s.to === "test:lead");
    expect(lead).toHaveLength(1);
    expect(lead[0]?.text).toContain(
      `jupyterhub/mybinder.org-deploy is 1 binderhub version behind: pinned ${t.existing.version}, newest ${t.published}. PRs since:`,
    );
    expect(lead[0]?.text).toContain("#1887");
  });
});
