import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChartService } from "../../src/charts/answer/service.ts";
import { parseConfig } from "../../src/config/load.ts";
import { openStore } from "../../src/store/store.ts";
import { silentLogger } from "./log.ts";

/**
 * A ChartService for one chart of a test repository and index, on the memory store, its mirror in a
 * fresh data folder (fetch cron off, GitHub unreachable), with a fixed clock. `close` removes it all.
 */
export async function chartServiceFor(opts: {
  chart: string;
  github: string;
  repoPath: string;
  indexUrl: string;
  now: Date;
}): Promise<{ svc: ChartService; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "bb-charts-"));
  const store = await openStore("memory", ".");
  const { config } = parseConfig(
    `store: memory
dataDir: ${dataDir}
mirrors: { fetchCron: "" }
github: { apiUrl: "http://127.0.0.1:9" }
charts: [{ name: ${opts.chart}, github: ${opts.github}, git: ${opts.repoPath}, index: ${opts.indexUrl} }]
deploy: { github: jupyterhub/mybinder.org-deploy }
`,
    "t.yaml",
    {},
  );
  const svc = new ChartService({ config, store, log: silentLogger(), now: () => opts.now });
  return {
    svc,
    async close() {
      svc.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
