import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cron from "node-cron";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChartService } from "../src/charts/answer/service.ts";
import { parseConfig } from "../src/config/load.ts";
import { openStore } from "../src/store/store.ts";
import { indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartBotYaml } from "./helpers/app.ts";
import { incident2018 } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";
import { silentLogger } from "./helpers/log.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the scheduled mirror fetch", () => {
  it("is scheduled on first use with the configured expression, and its job fetches new commits and polls the index", async () => {
    // node-cron is the library's business; what is ours is when it is scheduled and what the job does.
    const jobs: Array<{ expr: string; job: () => void; stopped: boolean }> = [];
    vi.spyOn(cron, "schedule").mockImplementation(((expr: string, job: () => void) => {
      const entry = { expr, job, stopped: false };
      jobs.push(entry);
      return {
        stop: () => {
          entry.stopped = true;
        },
      };
    }) as unknown as typeof cron.schedule);

    const repo = TestRepo.create();
    const c = incident2018(repo);
    const index = await startIndexServer({ body: indexYaml({ binderhub: [{ version: `0.1.0-${c.pr.slice(0, 7)}` }] }) });
    const dataDir = mkdtempSync(join(tmpdir(), "bb-sched-"));
    const { config } = parseConfig(
      chartBotYaml({ dataDir, repoPath: repo.path, indexUrl: index.url }).replace('fetchCron: ""', 'fetchCron: "*/5 * * * *"'),
      "t.yaml",
      {},
    );
    expect(config.mirrors.fetchCron).toBe("*/5 * * * *");
    const store = await openStore("memory", ".");
    const svc = new ChartService({ config, store, log: silentLogger(), now: () => new Date() });
    try {
      expect(jobs).toHaveLength(0); // nothing at construction
      await svc.answer("binderhub", { kind: "sha", sha: c.merge }, { pin: false });
      expect(jobs.map((j) => j.expr)).toEqual(["*/5 * * * *"]);
      await svc.answer("binderhub", { kind: "sha", sha: c.pr }, { pin: false });
      expect(jobs).toHaveLength(1); // scheduled once

      const mirror = svc.mirror("binderhub");
      const fetches = mirror.fetchCount;
      const polls = index.requests;
      const pushed = repo.commit("pushed later", { "binderhub/app.py": "new\n" });
      const refresh = vi.spyOn(svc, "refreshAll");
      jobs[0]!.job();
      expect(refresh).toHaveBeenCalledTimes(1);
      await refresh.mock.results[0]!.value; // the job's own promise: done when the fetch and the poll are
      expect(mirror.fetchCount).toBe(fetches + 1);
      expect(index.requests).toBe(polls + 1);
      expect(await mirror.hasCommit(pushed)).toBe(true);

      svc.close();
      expect(jobs[0]!.stopped).toBe(true);
    } finally {
      svc.close();
      await index.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
      repo.remove();
    }
  });
});
