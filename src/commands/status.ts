import type { CommandSpec } from "../core/command.ts";
import { errorLine } from "../core/one-line.ts";
import { type Block, fields, list, ok, para } from "../core/reply.ts";
import { type ChartStatus, chartStatus } from "../deploy/chart-status.ts";
import type { SiteHealth } from "../deploy/health.ts";
import { type LastRun, lastDeployRun } from "../deploy/last-run.ts";
import { allSiteHealth } from "../deploy/sites.ts";
import type { Services } from "../services.ts";
import { chartBlocks, runLine, siteItems } from "./status-reply.ts";

/**
 * `!binder status`: one look at the deploy. Each part is asked in parallel and reports its own
 * failure, so one source down never hides the others.
 */
export const status: CommandSpec<Services> = {
  name: "status",
  summary: "The deploy at a glance: pinned vs newest chart, PRs between, last deploy, sites' health",
  description:
    "For each configured chart: the version pinned on the deploy repository's default branch, the newest published version, how many published versions and which upstream PRs lie between them (from the chart repository's history). Then the last deploy run and its result (with the `why` verdict when it failed), and each configured site's BinderHub /health: ok, or the failing checks.",
  args: [],
  examples: ["status"],
  access: "anyone",
  sideEffects: null,
  intents: [
    {
      pattern:
        /^(?:what(?:'s| is) the |how(?:'s| is) the )?(?:deploy(?:ment)?|mybinder(?:\.org)?) (?:status|state)\b|^how are we doing\b/i,
      example: "what's the deploy status?",
      args: () => [],
    },
  ],
  async run(ctx) {
    const s = ctx.services;
    const d = s.config.deploy;
    const [charts, last, sites] = await Promise.all([
      Promise.all(s.charts.charts().map((c) => chartStatus(s, c))),
      lastDeployRun(s).then(
        (r): { run: LastRun | null; error: string | null } => ({ run: r, error: null }),
        (e: unknown) => ({ run: null, error: errorLine(e) }),
      ),
      allSiteHealth(s),
    ]);
    const blocks: Block[] = [];
    for (const c of charts) {
      const repo = s.config.charts.find((x) => x.name === c.chart)?.github ?? c.chart;
      blocks.push(...chartBlocks(c, repo));
    }
    blocks.push(
      fields([["Last deploy", last.error ? `unknown (${last.error})` : runLine(last.run, `${d.github} ${d.workflow}`)]]),
    );
    if (sites.length) blocks.push(para("Sites:"), list(siteItems(sites)));
    else blocks.push(para("No sites configured (sites: [{name, url}] in the config)."));
    return ok(blocks, statusData(charts, last.run, last.error, sites));
  },
};

/** `status` in `ask --json` and `Reply.data`. */
export type StatusData = ReturnType<typeof statusData>;

function statusData(charts: ChartStatus[], last: LastRun | null, lastError: string | null, sites: SiteHealth[]) {
  return {
    charts: charts.map((c) => ({
      chart: c.chart,
      pinned: c.pinned,
      pinError: c.pinError,
      newest: c.newest?.version ?? null,
      newestCreated: c.newest?.created ?? null,
      indexError: c.indexError,
      versionsBehind: c.versionsBehind,
      prs: c.prs,
      prsError: c.prsError,
    })),
    lastRun: last
      ? {
          id: last.run.id,
          url: last.run.url,
          conclusion: last.run.conclusion,
          createdAt: last.run.createdAt,
          failedJobs: last.failedJobs,
          verdict: last.verdict,
          error: last.error,
        }
      : null,
    lastRunError: lastError,
    sites: sites.map((h) => ({ site: h.site, url: h.url, ok: h.ok, status: h.status, checks: h.checks, error: h.error })),
  };
}
