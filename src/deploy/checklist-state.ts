/** The live state of a checklist step: ✓ done, ✗ not done, ? cannot tell — each with its reason. */

import type { ShaAnswer } from "../charts/answer/types.ts";
import { chartErrorLine, formatAge } from "../commands/sha-text.ts";
import type { Services } from "../services.ts";
import { type ChartStatus, chartStatus } from "./chart-status.ts";
import { lastCheckKey, type SiteCheck } from "./check.ts";
import type { ChecklistStep } from "./checklists.ts";
import { splitRepo } from "./deploy-file.ts";
import { healthLine, type SiteHealth, siteHealth } from "./health.ts";
import { type LastRun, lastDeployRun } from "./last-run.ts";

export type Mark = "done" | "not-done" | "unknown";

export interface StepState {
  /** null: the step has no check (a thing only a person can tell). */
  mark: Mark | null;
  reason: string | null;
}

const short = (sha: string) => sha.slice(0, 8);

/**
 * What the steps of one checklist look at, each asked at most once however many steps need it
 * (a failure is kept and said by every step that needed it).
 */
export class DeployFacts {
  readonly #memo = new Map<string, Promise<unknown>>();
  constructor(readonly s: Services) {}

  #once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = f();
      this.#memo.set(key, p);
    }
    return p;
  }

  tip(chart: string): Promise<ShaAnswer> {
    return this.#once(`tip:${chart}`, () => this.s.charts.answer(chart, undefined, { pin: false }));
  }
  status(chart: string): Promise<ChartStatus> {
    return this.#once(`status:${chart}`, () => chartStatus(this.s, chart));
  }
  lastRun(): Promise<LastRun | null> {
    return this.#once("run", () => lastDeployRun(this.s));
  }
  /** The deploy branch's tip commit. */
  deployTip(): Promise<string> {
    const d = this.s.config.deploy;
    return this.#once("deploy-tip", async () => {
      const r = await this.s.github.git.getRef({ ...splitRepo(d.github), ref: `heads/${d.branch}` });
      return r.data.object.sha;
    });
  }
  health(site: string): Promise<SiteHealth | null> {
    const cfg = this.s.config.sites.find((x) => x.name === site);
    if (!cfg) return Promise.resolve(null);
    const timeoutMs = this.s.config.check.healthTimeoutSeconds * 1000;
    return this.#once(`health:${site}`, () => siteHealth(cfg, { timeoutMs }));
  }
  lastCheck(site: string): Promise<SiteCheck | undefined> {
    return this.#once(`check:${site}`, () => this.s.store.get<SiteCheck>(lastCheckKey(site)));
  }
}

const done = (reason: string): StepState => ({ mark: "done", reason });
const notDone = (reason: string): StepState => ({ mark: "not-done", reason });
const unknown = (reason: string): StepState => ({ mark: "unknown", reason });

/** The state of one step; never rejects (a source that fails makes the step "?" with the reason). */
export async function stepState(step: ChecklistStep, facts: DeployFacts): Promise<StepState> {
  if (!step.check) return { mark: null, reason: null };
  try {
    return await evaluate(step, facts);
  } catch (e) {
    return unknown(chartErrorLine(e));
  }
}

async function evaluate(step: ChecklistStep, facts: DeployFacts): Promise<StepState> {
  const s = facts.s;
  const chart = step.chart ?? s.charts.charts()[0]!;
  const now = s.now().getTime();
  switch (step.check) {
    case "upstream-merged": {
      const a = await facts.tip(chart);
      const pr = a.pr ? ` (#${a.pr})` : "";
      // Which change the person means is theirs to say; the bot shows what is merged last.
      return unknown(
        `which change is yours to say; newest on ${chart}'s default branch: ${short(a.builtCommit)}${pr}, merged ${a.minutesSinceMerge} min ago`,
      );
    }
    case "chart-published": {
      const a = await facts.tip(chart);
      if (a.published) return done(`${a.version} (the newest chart commit ${short(a.chartCommit)}) is published`);
      if (a.index.fetchedAt === null) return unknown(`the chart index is unreachable (${a.index.error ?? "no copy"})`);
      return notDone(
        `${a.version} (chart commit ${short(a.chartCommit)}) is not published yet; merged ${a.minutesSinceMerge} min ago`,
      );
    }
    case "pin-bumped": {
      const c = await facts.status(chart);
      if (!c.pinned) return unknown(`the pin cannot be read (${c.pinError ?? "?"})`);
      if (!c.newest) return unknown(`the newest published chart is unknown (${c.indexError ?? "?"})`);
      if (c.pinned === c.newest.version) return done(`${c.pinned} is pinned, the newest published`);
      const behind =
        c.versionsBehind === null ? "" : ` (${c.versionsBehind} published version${c.versionsBehind === 1 ? "" : "s"} behind)`;
      return notDone(`${c.pinned} is pinned; newest published is ${c.newest.version}${behind}`);
    }
    case "deploy-green": {
      const last = await facts.lastRun();
      if (!last) return unknown("no completed deploy run yet");
      const r = last.run;
      const name = r.number ? `run #${r.number}` : `run ${r.id}`;
      const tip = await facts.deployTip().catch(() => null);
      if (tip && r.sha !== tip) {
        return unknown(
          `the last completed ${name} deployed ${short(r.sha)}, not the tip ${short(tip)} of ${s.config.deploy.branch} (a deploy may be running)`,
        );
      }
      const jobs = step.jobs ? new RegExp(step.jobs, "i") : null;
      if (r.conclusion === "success") return done(`${name} succeeded`);
      if (r.conclusion !== "failure") return unknown(`${name} ended ${r.conclusion}`);
      const failed = jobs ? last.failedJobs.filter((j) => jobs.test(j)) : last.failedJobs;
      if (jobs && last.failedJobs.length && failed.length === 0) {
        return done(`${name} failed, but not in jobs matching ${step.jobs} (failed: ${last.failedJobs.join(", ")})`);
      }
      const v = last.verdict;
      const why = v ? `${v.kind}${v.title ? ` — ${v.title}` : ""}` : `unknown (${last.error ?? "no log read"})`;
      return notDone(`${name} failed${failed.length ? ` in ${failed.join(", ")}` : ""}; why: ${why}`);
    }
    case "site-healthy": {
      const h = await facts.health(step.site!);
      if (!h) return unknown(`there is no site '${step.site}' in the config`);
      if (h.ok === null) return unknown(healthLine(h));
      return h.ok ? done("/health ok") : notDone(`/health ${healthLine(h)}`);
    }
    case "test-launch": {
      const c = await facts.lastCheck(step.site!);
      if (!c?.launch) return unknown(`not checked yet: \`check ${step.site}\``);
      const ago = formatAge(now - Date.parse(c.at));
      if (!c.launch.ok)
        return notDone(
          `the last launch, ${ago} ago, ${c.launch.outcome === "timeout" ? "timed out" : "failed"}: ${c.launch.error ?? "?"}`,
        );
      const last = await facts.lastRun().catch(() => null);
      if (last && Date.parse(last.run.createdAt) > Date.parse(c.at)) {
        return unknown(`the last launch (${ago} ago) was before the last deploy; \`check ${step.site}\` again`);
      }
      return done(`launched in ${Math.round(c.launch.totalMs / 1000)} s, ${ago} ago`);
    }
    default:
      return { mark: null, reason: null };
  }
}
