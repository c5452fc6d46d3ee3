import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChartService } from "../src/charts/answer/service.ts";
import { PinReader } from "../src/charts/index/deploy-pin.ts";
import { parseConfig } from "../src/config/load.ts";
import { createOctokit } from "../src/github/client.ts";
import { openStore } from "../src/store/store.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { silentLogger } from "./helpers/log.ts";

const DEPLOY = "jupyterhub/mybinder.org-deploy";
const FILE = "mybinder/Chart.yaml";
const src = { repo: DEPLOY, file: FILE, branch: "main" };

describe("the deploy pin: read once a minute, once per burst, its 304 not a warning", () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await startFakeGitHub();
    gh.setFile(DEPLOY, FILE, 'dependencies:\n  - name: binderhub\n    version: "1.0.0-0.dev.git.1.h00000001"\n');
  });
  afterAll(() => gh.close());

  it("answers repeated reads within 60 s from memory, shares one request among concurrent ones, then asks with If-None-Match", async () => {
    const lines: string[] = [];
    const log = pino(
      { level: "trace" },
      new Writable({
        write(chunk, _e, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const octokit = createOctokit({ apiUrl: gh.url, log, retries: 0 });
    let t = 1_000_000;
    const pins = new PinReader(
      () => octokit,
      () => t,
    );
    const contents = () => gh.requestsTo(/\/contents\//, "GET").length;

    const burst = await Promise.all([1, 2, 3, 4, 5].map(() => pins.read(src, "binderhub")));
    expect(burst.map((p) => p.version)).toEqual(Array(5).fill("1.0.0-0.dev.git.1.h00000001"));
    expect(contents()).toBe(1);

    t += 59_000;
    expect((await pins.read(src, "binderhub")).version).toBe("1.0.0-0.dev.git.1.h00000001");
    expect(contents()).toBe(1);

    t += 2_000;
    expect((await pins.read(src, "binderhub")).version).toBe("1.0.0-0.dev.git.1.h00000001");
    expect(contents()).toBe(2);
    expect(gh.requestsTo(/\/contents\//, "GET").at(-1)?.status).toBe(304);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40);
    expect(warnings).toEqual([]);

    // A change is seen after the minute is up.
    gh.setFile(DEPLOY, FILE, 'dependencies:\n  - name: binderhub\n    version: "1.0.0-0.dev.git.2.h00000002"\n');
    t += 61_000;
    expect((await pins.read(src, "binderhub")).version).toBe("1.0.0-0.dev.git.2.h00000002");
  });
});

describe("one chart index per URL, shared by every chart that names it", () => {
  let index: IndexServer;
  let svc: ChartService;
  beforeAll(async () => {
    index = await startIndexServer({
      body: indexYaml({
        binderhub: [{ version: "1.0.0-0.dev.git.1.h00000001" }],
        jupyterhub: [{ version: "4.0.0-0.dev.git.1.h00000002" }],
      }),
    });
    const { config } = parseConfig(
      `store: memory
mirrors: { fetchCron: "" }
charts:
  - { name: binderhub, github: jupyterhub/binderhub, git: /nonexistent/a.git, index: ${index.url} }
  - { name: jupyterhub, github: jupyterhub/zero-to-jupyterhub-k8s, git: /nonexistent/b.git, index: ${index.url} }
deploy: { github: ${DEPLOY} }
`,
      "t.yaml",
      {},
    );
    svc = new ChartService({ config, store: await openStore("memory", "."), log: silentLogger(), now: () => new Date() });
  });
  afterAll(async () => {
    svc.close();
    await index.close();
  });

  it("is fetched and parsed once for both charts", async () => {
    expect(svc.index("binderhub")).toBe(svc.index("jupyterhub"));
    const [a, b] = await Promise.all([svc.index("binderhub").get(), svc.index("jupyterhub").get()]);
    expect(a.versions("binderhub")[0]?.version).toBe("1.0.0-0.dev.git.1.h00000001");
    expect(b.versions("jupyterhub")[0]?.version).toBe("4.0.0-0.dev.git.1.h00000002");
    expect(index.requests).toBe(1);
    expect(svc.index("binderhub").parseCount).toBe(1);
  });
});
