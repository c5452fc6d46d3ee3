import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { predictHashLength } from "../src/charts/answer/assemble.ts";
import { ChartService } from "../src/charts/answer/service.ts";
import { ChartIndex, type IndexSnapshot } from "../src/charts/index/chart-index.ts";
import { parseConfig } from "../src/config/load.ts";
import { renderPlain } from "../src/core/render.ts";
import { openStore } from "../src/store/store.ts";
import { say, testApp } from "./helpers/app.ts";
import { silentLogger } from "./helpers/log.ts";
import { freePort } from "./helpers/net.ts";
import { skipWhy } from "./helpers/skip.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SHARED = path.resolve(repoRoot, "../shared/data");
const INDEX = path.join(SHARED, "helm-chart-index-2024-10-24.yaml");
const TSV = path.join(SHARED, "binderhub-chart-versions.tsv");
/** A clone of jupyterhub/binderhub (`git clone --mirror` of the bundle; .ci/run sets it). */
const BINDERHUB_GIT = process.env.BINDERHUB_GIT ?? "";

interface Row {
  commit: string;
  date: string;
  computed: string;
  chartCommit: string;
  index: string;
}

function rows(): Row[] {
  return readFileSync(TSV, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split("\t"))
    .map((f) => ({ commit: f[0]!, date: f[1]!, computed: f[6]!, chartCommit: f[7]!, index: f[9]! }))
    .map((r) => LATE_TAG[r.commit] ?? r);
}

/**
 * The TSV's computed column applies tags as they are today. Its note on 2a7145f says what CI did:
 * it built the merge before the tag 0.2.0 existed and republished 0.1.0-456.7e32ac0, which the rule
 * now gives (a tag counts for builds after its creation).
 */
const LATE_TAG: Record<string, Row> = {
  "2a7145f40d": {
    commit: "2a7145f40d",
    date: "2019-11-27T07:36:41+00:00",
    computed: "0.1.0-456.7e32ac0",
    chartCommit: "7e32ac0",
    index: "",
  },
};

const haveShared = existsSync(INDEX) && existsSync(TSV);

describe.skipIf(!haveShared)(
  `the real chart index (../shared/data, 2024-10-24)${skipWhy(haveShared, `no ${INDEX} or ${TSV}`)}`,
  () => {
    let snap: IndexSnapshot;
    beforeAll(async () => {
      snap = await new ChartIndex({ url: INDEX, log: silentLogger() }).get();
    });

    it("finds every published chart commit of the history sample by SHA prefix, whatever its format", () => {
      const published = rows().filter((r) => r.index);
      expect(published.length).toBeGreaterThan(30);
      for (const r of published) {
        const hits = snap.bySha("binderhub", r.chartCommit).map((e) => e.version);
        expect(hits, r.commit).toContain(r.index);
      }
    });

    it("predicts the hash length CI used at each date (7, then 8 from 2024-08)", () => {
      for (const r of rows().filter((x) => x.index)) {
        const hex = /h?([0-9a-f]{7,12})$/.exec(r.index)?.[1];
        if (!hex) continue;
        expect(predictHashLength(snap, "binderhub", new Date(r.date).toISOString()), r.commit).toBe(hex.length);
      }
      expect(snap.newestHashLength("binderhub")).toBe(8);
    });
  },
);

const haveGit = haveShared && BINDERHUB_GIT !== "" && existsSync(path.join(BINDERHUB_GIT, "HEAD"));
const gitSkipWhy = haveGit
  ? ""
  : ` (skipped: ${BINDERHUB_GIT ? `no git repository at BINDERHUB_GIT=${BINDERHUB_GIT}` : "BINDERHUB_GIT is not set"})`;

describe.skipIf(!haveGit)(`the real binderhub history${gitSkipWhy}`, () => {
  let svc: ChartService;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "binderbot-real-"));
    const { config } = parseConfig(
      `
store: memory
dataDir: ${dataDir}
mirrors: { fetchCron: "" }
charts:
  - name: binderhub
    github: jupyterhub/binderhub
    git: ${BINDERHUB_GIT}
    index: ${INDEX}
    branch: main
deploy:
  github: jupyterhub/mybinder.org-deploy
`,
      "real.yaml",
      {},
    );
    svc = new ChartService({ config, store: await openStore("memory", "."), log: silentLogger(), now: () => new Date() });
  });
  afterAll(() => {
    svc.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reproduces every row of binderhub-chart-versions.tsv", async () => {
    for (const r of rows()) {
      const a = await svc.answer("binderhub", { kind: "sha", sha: r.commit }, { pin: false });
      expect(a.chartCommit.startsWith(r.chartCommit), r.commit).toBe(true);
      expect(a.computed, r.commit).toBe(r.computed);
      expect(a.version, r.commit).toBe(r.index || r.computed);
      expect(a.published, r.commit).toBe(r.index !== "");
    }
  }, 120_000);

  it("4e3bafb is the 2018 incident: pin 0.1.0-441f5ea", async () => {
    const a = await svc.answer("binderhub", { kind: "sha", sha: "4e3bafb" }, { pin: false });
    expect(a.version).toBe("0.1.0-441f5ea");
    expect(a.relation).toBe("merge-same-as-parent");
    const x = await svc.explainVersion("binderhub", "0.1.0-4e3bafb");
    expect(x.kind).toBe("merge-commit");
    expect(x.correct?.version).toBe("0.1.0-441f5ea");
  }, 60_000);

  it("the README's sample reply is the real one", async () => {
    const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
    const sample = /```\n!binder sha 4e3bafb\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(sample).toBeDefined();
    // The same setup, GitHub unreachable: the sample stops before the pin, which is read from GitHub.
    const app = await testApp(
      `store: memory\ndataDir: ${dataDir}\nmirrors: { fetchCron: "" }\ngithub: { apiUrl: "http://127.0.0.1:${await freePort()}" }\ncharts:\n  - { name: binderhub, github: jupyterhub/binderhub, git: "${BINDERHUB_GIT}", index: "${INDEX}", branch: main }\ndeploy: { github: jupyterhub/mybinder.org-deploy }\n`,
    );
    try {
      const reply = await say(app, "!binder sha 4e3bafb");
      expect(renderPlain(reply!).split("\n\nPinned now")[0]).toBe(sample);
    } finally {
      await app.close();
    }
  }, 60_000);
});
