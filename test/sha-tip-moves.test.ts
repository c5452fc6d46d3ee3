import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChartService } from "../src/charts/answer/service.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { chartServiceFor } from "./helpers/chart-service.ts";
import { TestRepo } from "./helpers/git.ts";

/*
 * A fetch that moves the tip while an answer is being made. The test owns the order: the mirror's
 * git layer awaits a hook before each git process, and the hook lands a whole fetch (a new commit
 * and a new tag upstream) at a chosen step of the answer. The answer must be made from one tip:
 * every git command of it that names a tip names the same one, and its result is that tip's.
 */

const CHARTPRESS = "charts:\n  - name: binderhub\n";
const NOW = new Date("2024-06-02T00:00:00Z");

/** The tip each tip-bearing command names: `rev-list --first-parent <tip>`, `rev-list --ancestry-path <c>..<tip>`. */
function tipNamed(args: readonly string[]): string | null {
  if (args[0] !== "rev-list") return null;
  const last = args.at(-1) ?? "";
  if (args.includes("--first-parent")) return last;
  if (args.includes("--ancestry-path")) return last.split("..")[1] ?? null;
  return null;
}

describe("a fetch that moves the tip during an answer", () => {
  let repo: TestRepo;
  let index: IndexServer;
  const c: Record<string, string> = {};

  beforeAll(async () => {
    repo = TestRepo.create();
    repo.clock = Date.parse("2024-06-01T12:00:00Z") / 1000;
    c.base = repo.commit("add the chart", {
      "helm-chart/chartpress.yaml": CHARTPRESS,
      "helm-chart/binderhub/Chart.yaml": "apiVersion: v2\nname: binderhub\nversion: 0.0.1-set.by.chartpress\n",
      "dev-requirements.txt": "chartpress==1.3.0\n",
    });
    repo.tag("0.1.0", c.base);
    c.chart = repo.commit("chart change", { "helm-chart/binderhub/values.yaml": "a: 1\n" });
    c.docs = repo.commit("docs only", { "docs/index.md": "docs\n" });
    index = await startIndexServer({ body: indexYaml({ binderhub: [] }) });
  });
  afterAll(async () => {
    await index.close();
    repo.remove();
  });

  /** A service on the repository as it is now, its mirror cloned. */
  async function service(): Promise<{ svc: ChartService; close(): Promise<void> }> {
    const s = await chartServiceFor({
      chart: "binderhub",
      github: "jupyterhub/binderhub",
      repoPath: repo.path,
      indexUrl: index.url,
      now: NOW,
    });
    await s.svc.mirror("binderhub").ready();
    return s;
  }

  /**
   * Asks for the tip while `when(args)` picks the git command before which a fetch lands (a new chart
   * commit tagged 0.2.0 pushed upstream first). Returns the answer and the tips its commands named.
   */
  async function askWhileFetching(when: (args: readonly string[]) => boolean) {
    const s = await service();
    const mirror = s.svc.mirror("binderhub");
    const tips = new Set<string>();
    let landed: string | null = null;
    let fetching = false;
    mirror.git.beforeCommand = async (args) => {
      if (fetching) return; // the fetch's own commands pass
      if (landed === null && when(args)) {
        repo.checkout("main");
        const next = repo.commit("another chart change", { "helm-chart/binderhub/values.yaml": `a: ${repo.clock}\n` });
        repo.tag(`0.2.${repo.clock}`, next);
        fetching = true;
        await mirror.fetch();
        fetching = false;
        landed = next;
      }
      const tip = tipNamed(args);
      if (tip) tips.add(tip);
    };
    try {
      const answer = await s.svc.answer("binderhub", undefined, { pin: false });
      mirror.git.beforeCommand = null;
      expect(landed).not.toBeNull();
      return { answer, tips: [...tips], landed: landed as unknown as string, svc: s.svc };
    } finally {
      await s.close();
    }
  }

  it("landing after the tip was read: the whole answer is the old tip's", async () => {
    const before = repo.head();
    const { answer, tips } = await askWhileFetching((args) => tipNamed(args) !== null);
    expect(tips).toEqual([before]);
    expect(answer.commit).toBe(before);
    expect(answer.builtCommit).toBe(before);
    // the old tip's chart: the last chart change before it, counted from the tag it could see
    const chartCommit = repo.git("log", "-n1", "--format=%H", before, "--", "helm-chart/chartpress.yaml", "helm-chart/binderhub");
    expect(answer.chartCommit).toBe(chartCommit);
    const described = repo.git("describe", "--tags", "--long", chartCommit).split("-");
    expect(answer.version).toBe(`${described[0]}-n${described[1]?.padStart(3, "0")}.h${chartCommit.slice(0, 7)}`);
  });

  it("landing before the tip was read: the whole answer is the new tip's", async () => {
    const { answer, tips, landed } = await askWhileFetching((args) => args[0] === "for-each-ref");
    expect(tips).toEqual([landed]);
    expect(answer.commit).toBe(landed);
    expect(answer.chartCommit).toBe(landed);
    // the new commit carries its tag: the version is the tag
    expect(answer.version).toBe(repo.git("describe", "--tags", "--exact-match", landed));
  });

  it("the next answer after the fetch is the new tip's, and a same-size tag set with other tags is not served from the old", async () => {
    const s = await service();
    try {
      const ask = () => s.svc.answer("binderhub", { kind: "sha", sha: c.docs as string }, { pin: false });
      const first = await ask();
      expect(first.chartCommit).toBe(c.chart);
      expect(first.version).toBe(`0.1.0-n001.h${c.chart?.slice(0, 7)}`);
      // 0.1.0 replaced by 0.1.1 on the same commit: as many tags as before, other names.
      repo.git("tag", "-d", "0.1.0");
      repo.tag("0.1.1", c.base);
      await s.svc.mirror("binderhub").fetch();
      const second = await ask();
      expect(second.version).toBe(`0.1.1-n001.h${c.chart?.slice(0, 7)}`);
    } finally {
      await s.close();
      repo.git("tag", "-d", "0.1.1");
      repo.tag("0.1.0", c.base);
    }
  });
});
