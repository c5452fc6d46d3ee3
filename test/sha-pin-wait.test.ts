import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { PIN_WAIT_MS } from "../src/charts/answer/pin-info.ts";
import { renderPlain } from "../src/core/render.ts";
import { GITHUB_SLOW } from "../src/github/client.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";
import { incident2018 } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";

// The pin is a side note: when GitHub accepts the connection and never answers, the answer comes
// without it after the pin wait. The wait is injected, so this test does not sit out production's 4 s.
describe("sha when GitHub never answers the pin", () => {
  let repo: TestRepo;
  let index: IndexServer;
  let silent: Server;
  const sockets = new Set<Socket>();
  let dataDir: string;
  let c: { merge: string; pr: string };
  let app: App;

  beforeAll(async () => {
    repo = TestRepo.create();
    c = incident2018(repo);
    index = await startIndexServer({ body: indexYaml({ binderhub: [{ version: `0.1.0-${c.pr.slice(0, 7)}` }] }) });
    // Accepts connections, reads requests, answers nothing.
    silent = createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    dataDir = mkdtempSync(join(tmpdir(), "bb-pinwait-"));
    app = await testApp(
      chartBotYaml({ dataDir, repoPath: repo.path, indexUrl: index.url, githubUrl: `http://127.0.0.1:${port}` }),
      {
        waits: { pinWaitMs: 50 },
      },
    );
  });

  afterAll(async () => {
    await app.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await index.close();
    rmSync(dataDir, { recursive: true, force: true });
    repo.remove();
  });

  it("answers with the chart version and says the pin was not waited for", async () => {
    expect(PIN_WAIT_MS).toBeGreaterThan(50); // production waits longer than this test does
    const r = await say(app, `!binder sha ${c.merge}`);
    expect(r?.ok).toBe(true);
    expect(r?.data).toMatchObject({ commit: c.merge, version: `0.1.0-${c.pr.slice(0, 7)}` });
    expect(r?.data).toMatchObject({ pinned: null });
    expect(renderPlain(r!)).toContain(`Pinned now: unknown (${GITHUB_SLOW})`);
    expect(sockets.size).toBeGreaterThan(0); // GitHub was asked, and is still not answering
  });
});
