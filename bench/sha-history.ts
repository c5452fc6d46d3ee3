/**
 * Not a timing benchmark: checks the rule over a whole real history. For every first-parent commit
 * of a local jupyterhub/binderhub clone ($BINDERHUB_GIT) before the index snapshot's date, computes
 * the chart and compares the computed version with the published one wherever the index has it.
 *
 *   BINDERHUB_GIT=/path/to/binderhub.git npx tsx bench/sha-history.ts
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChartService } from "../src/charts/service.ts";
import { parseConfig } from "../src/config/load.ts";
import { silentLogger } from "../src/log.ts";
import { openStore } from "../src/store/store.ts";

const GIT = process.env.BINDERHUB_GIT ?? "/work/.mirror/jupyterhub+binderhub/repo";
const INDEX = new URL("../../shared/data/helm-chart-index-2024-10-24.yaml", import.meta.url).pathname;
if (!existsSync(join(GIT, "HEAD")) || !existsSync(INDEX)) {
  console.log(`needs a binderhub clone at $BINDERHUB_GIT (${GIT}) and ${INDEX}`);
  process.exit(0);
}
const dataDir = mkdtempSync(join(tmpdir(), "binderbot-history-"));
const { config } = parseConfig(
  `store: memory\ndataDir: ${dataDir}\nmirrors: { fetchCron: "" }\ncharts:\n  - name: binderhub\n    github: jupyterhub/binderhub\n    git: ${GIT}\n    index: ${INDEX}\n    branch: main\ndeploy:\n  github: jupyterhub/mybinder.org-deploy\n`,
  "history.yaml",
  {},
);
const svc = new ChartService({ config, store: await openStore("memory", "."), log: silentLogger(), now: () => new Date() });
const shas = execFileSync("git", ["--git-dir", GIT, "rev-list", "--first-parent", "--before=2024-10-23", "main"], {
  encoding: "utf8",
})
  .trim()
  .split("\n");
const stats = {
  firstParent: shas.length,
  noChartpress: 0,
  otherErrors: 0,
  chartCommits: 0,
  match: 0,
  mismatch: 0,
  unpublished: 0,
};
const unpublishedByMonth: Record<string, number> = {};
const seen = new Set<string>();
for (const s of shas) {
  try {
    const a = await svc.answerCommit("binderhub", s);
    if (seen.has(a.chartCommit)) continue;
    seen.add(a.chartCommit);
    stats.chartCommits++;
    if (!a.published) {
      stats.unpublished++;
      const m = a.mergedAt.slice(0, 7);
      unpublishedByMonth[m] = (unpublishedByMonth[m] ?? 0) + 1;
    } else if (a.computed === a.version) stats.match++;
    else {
      stats.mismatch++;
      console.log(`MISMATCH ${s.slice(0, 10)} index ${a.version} computed ${a.computed} (${a.chartpress})`);
    }
  } catch (e) {
    if (/chartpress\.yaml/.test((e as Error).message)) stats.noChartpress++;
    else {
      stats.otherErrors++;
      console.log(`ERROR ${s.slice(0, 10)} ${(e as Error).message}`);
    }
  }
}
console.log(stats);
console.log("not in the index, by month of the build:", unpublishedByMonth);
svc.close();
rmSync(dataDir, { recursive: true, force: true });
