/**
 * Not a timing benchmark: checks the rule over whole real histories. For every version the chart
 * index snapshot published for binderhub ($BINDERHUB_GIT) and z2jh's jupyterhub chart ($Z2JH_GIT),
 * whether the rule reproduces it (test/helpers/chart-history.ts says how), per era, as the table
 * in docs/sha.md; and the wall time of each walk.
 *
 *   BINDERHUB_GIT=/path/binderhub.git Z2JH_GIT=/path/z2jh.git npx tsx bench/sha-history.ts
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkPublishedHistory, historyTable } from "../test/helpers/chart-history.ts";

const INDEX = new URL("../../shared/data/helm-chart-index-2024-10-24.yaml", import.meta.url).pathname;
const repos = [
  { env: "BINDERHUB_GIT", chart: "binderhub", github: "jupyterhub/binderhub" },
  { env: "Z2JH_GIT", chart: "jupyterhub", github: "jupyterhub/zero-to-jupyterhub-k8s" },
];
if (!existsSync(INDEX)) {
  console.log(`needs the index snapshot ${INDEX}`);
  process.exit(0);
}
for (const r of repos) {
  const gitDir = process.env[r.env];
  if (!gitDir || !existsSync(join(gitDir, "HEAD"))) {
    console.log(`${r.chart}: skipped, set $${r.env} to a clone of ${r.github}`);
    continue;
  }
  const t0 = performance.now();
  const report = await checkPublishedHistory({ chart: r.chart, github: r.github, gitDir, index: INDEX, walkDefaultBranch: true });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`\n## ${r.chart} (${r.github}): ${report.firstParent} default-branch commits walked in ${s} s`);
  console.log(historyTable(report));
  console.log(
    `default-branch builds: ${report.publishedExact} of ${report.publishedChartCommits} published chart commits give exactly the published version`,
  );
  for (const e of report.eras) for (const w of e.wrong) console.log(`WRONG ${e.era}: ${w}`);
  for (const d of report.answerDiffers) console.log(`DIFFERS ${d}`);
}
