import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Mirror } from "../src/charts/git/mirror.ts";
import { ChartIndex } from "../src/charts/index/chart-index.ts";
import { fetchLogTail } from "../src/ci/provider.ts";
import { createOctokit } from "../src/github/client.ts";
import { metrics } from "../src/metrics.ts";
import { startFakeGitHub } from "./fakes/github.ts";
import { indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { TestRepo } from "./helpers/git.ts";
import { silentLogger } from "./helpers/log.ts";

/** How many calls to `source` the process-wide latency histogram has seen. */
async function calls(source: string): Promise<number> {
  const h = await metrics.sourceLatency.get();
  return (
    h.values.find((v) => v.metricName === "binderbot_source_latency_seconds_count" && v.labels.source === source)?.value ?? 0
  );
}

describe("source latency metrics", () => {
  it("times every call to GitHub, the chart index, CI logs and git", async () => {
    const before = Object.fromEntries(
      await Promise.all(["github", "chart-index", "ci-log", "git-clone", "git-fetch"].map(async (s) => [s, await calls(s)])),
    );

    const gh = await startFakeGitHub();
    gh.setRepo("jupyterhub/binderhub", { default_branch: "main" });
    const octokit = createOctokit({ apiUrl: gh.url, log: silentLogger(), retries: 0 });
    await octokit.rest.repos.get({ owner: "jupyterhub", repo: "binderhub" });
    await gh.close();

    const server = await startIndexServer({ body: indexYaml({ binderhub: [{ version: "0.1.0-441f5ea" }] }) });
    const index = new ChartIndex({ url: server.url, log: silentLogger() });
    await index.get();
    await fetchLogTail(`${server.url}`, 1024, { what: "a log" });
    await server.close();

    const repo = TestRepo.create();
    repo.commit("one", { "a.txt": "a\n" });
    const mirror = new Mirror({
      name: "m",
      url: repo.path,
      dataDir: mkdtempSync(join(tmpdir(), "bb-met-")),
      log: silentLogger(),
    });
    await mirror.fetch();
    repo.remove();

    expect(await calls("github")).toBeGreaterThan(before.github);
    expect(await calls("chart-index")).toBe(before["chart-index"] + 1);
    expect(await calls("ci-log")).toBeGreaterThan(before["ci-log"]);
    expect(await calls("git-clone")).toBe(before["git-clone"] + 1);
    expect(await calls("git-fetch")).toBe(before["git-fetch"] + 1);
  });
});
