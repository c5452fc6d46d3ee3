import type { CiRun } from "../ci/provider.ts";
import { errorLine } from "../core/one-line.ts";
import { code, type Inline, link, list, para, type Reply, strong } from "../core/reply.ts";
import { chartStatus } from "../deploy/chart-status.ts";
import { describeRun, type LastRun } from "../deploy/last-run.ts";
import type { Services } from "../services.ts";
import type { Outbox } from "./outbox.ts";
import type { Subscriptions } from "./subscriptions.ts";

type Deps = Pick<Services, "ci" | "store" | "config" | "now" | "log" | "charts" | "github">;

/** Runs listed per poll: more than can end between two polls. */
const RECENT = 10;
/** Run ids remembered (the newest), so an old run is never announced again. */
const KEEP = 200;
const SEEN_KEY = "notify:deploys:seen";

/**
 * Each deploy workflow run on the default branch that ended, once: success, or failure with the
 * `why` verdict, the decisive line and whether `retry` is advised. The first poll on a fresh store
 * records the runs there are and says nothing.
 */
export class DeployWatcher {
  constructor(
    private readonly s: () => Deps,
    private readonly outbox: Outbox,
    private readonly subscriptions: Subscriptions,
  ) {}

  async poll(): Promise<void> {
    const s = this.s();
    const d = s.config.deploy;
    let runs: CiRun[];
    try {
      runs = await s.ci.recentRuns(d.workflow, d.branch, RECENT);
    } catch (e) {
      s.log.warn({ err: errorLine(e) }, "deploy poll failed");
      return;
    }
    const ended = runs.filter((r) => r.conclusion !== "running");
    const seen = await s.store.get<string[]>(SEEN_KEY);
    if (!seen) {
      await s.store.set(SEEN_KEY, ended.map((r) => r.id).slice(0, KEEP));
      return;
    }
    const known = new Set(seen);
    const fresh = ended.filter((r) => !known.has(r.id)).reverse(); // oldest first
    for (const run of fresh) {
      const report = await describeRun(s, run).catch(
        (e: unknown): LastRun => ({ run, verdict: null, failedJobs: [], error: errorLine(e) }),
      );
      await this.outbox.enqueue(
        `deploy:${d.github}:${run.id}`,
        await this.subscriptions.rooms("deploys"),
        deployReply(report, d.github),
      );
      known.add(run.id);
      await s.store.set(SEEN_KEY, [run.id, ...seen.filter((id) => id !== run.id)].slice(0, KEEP));
      seen.unshift(run.id);
    }
  }
}

const ADVICE: Record<"spurious" | "legitimate" | "unknown", string> = {
  spurious: "a spurious failure: re-running the failed jobs is advised.",
  legitimate: "a legitimate failure: do not retry, fix the cause.",
  unknown: "not recognised: read the log before a retry.",
};

/** "jupyterhub/mybinder.org-deploy run #412 succeeded" / "… failed in deploy-staging: spurious — …". */
function deployReply(r: LastRun, repo: string): Reply {
  const run = r.run;
  const name: Inline = link(run.url, `${repo} deploy run ${run.number ? `#${run.number}` : run.id}`);
  const data = { notification: "deploy", runId: run.id, url: run.url, conclusion: run.conclusion, verdict: r.verdict };
  if (run.conclusion === "success") return { ok: true, blocks: [para(name, " ", strong("succeeded"), ".")], data };
  if (run.conclusion !== "failure") return { ok: true, blocks: [para(name, " ended: ", strong(run.conclusion), ".")], data };
  const jobs = r.failedJobs.length ? ` in ${r.failedJobs.join(", ")}` : "";
  if (!r.verdict) {
    return {
      ok: true,
      blocks: [para(name, " ", strong("failed"), `${jobs}; why cannot be told (${r.error ?? "no log read"}).`)],
      data,
    };
  }
  const v = r.verdict;
  const blocks = [para(name, " ", strong("failed"), `${jobs}: ${v.title ?? v.kind}; ${ADVICE[v.kind]}`)];
  if (v.text) blocks.push(para("Decisive line: ", code(v.text)));
  if (v.advice) blocks.push(para(v.advice));
  return { ok: true, blocks, data };
}

/** Once a day: "mybinder.org is N binderhub versions behind (PRs …)" when N > 0, for each chart. */
export class BehindWatcher {
  constructor(
    private readonly s: () => Deps,
    private readonly outbox: Outbox,
    private readonly subscriptions: Subscriptions,
  ) {}

  async check(): Promise<void> {
    const s = this.s();
    const day = s.now().toISOString().slice(0, 10);
    for (const chart of s.charts.charts()) {
      await s.charts
        .index(chart)
        .refresh()
        .catch(() => {}); // a failed refresh leaves the last good copy, which chartStatus reports
      const c = await chartStatus(s, chart);
      if (!c.versionsBehind || c.versionsBehind <= 0 || !c.newest) continue;
      const repo = s.config.charts.find((x) => x.name === chart)?.github ?? chart;
      const prs = (c.prs ?? [])
        .slice(0, 12)
        .map((p) => [link(`https://github.com/${repo}/pull/${p.number}`, `#${p.number}`), ` ${p.title}`]);
      const more = (c.prs?.length ?? 0) > 12 ? ` (and ${(c.prs?.length ?? 0) - 12} more)` : "";
      const reply: Reply = {
        ok: true,
        blocks: [
          para(
            `${s.config.deploy.github} is ${c.versionsBehind} ${chart} version${c.versionsBehind === 1 ? "" : "s"} behind: pinned `,
            code(c.pinned ?? "?"),
            ", newest ",
            code(c.newest.version),
            prs.length ? `. PRs since${more}:` : ".",
          ),
          ...(prs.length ? [list(prs)] : []),
        ],
        data: { notification: "behind", chart, pinned: c.pinned, newest: c.newest.version, behind: c.versionsBehind, prs: c.prs },
      };
      await this.outbox.enqueue(`behind:${chart}:${day}`, await this.subscriptions.rooms("behind"), reply);
    }
  }
}
