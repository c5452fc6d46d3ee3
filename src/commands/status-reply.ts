/** The `status` answer: each chart's pin and what lies beyond it, the last deploy, the sites. */

import type { Block, Inline } from "../core/reply.ts";
import { code, fields, link, list, para, strong } from "../core/reply.ts";
import type { ChartStatus } from "../deploy/chart-status.ts";
import { healthLine, type SiteHealth } from "../deploy/health.ts";
import type { LastRun } from "../deploy/last-run.ts";
import type { UpstreamPr } from "../deploy/upstream.ts";

/** PRs listed in chat; the rest are counted. */
const MAX_PRS = 12;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function prItems(repo: string, prs: readonly UpstreamPr[], max = MAX_PRS): Array<Inline[]> {
  const items: Array<Inline[]> = prs
    .slice(0, max)
    .map((p) => [link(`https://github.com/${repo}/pull/${p.number}`, `#${p.number}`), ` ${p.title}`]);
  if (prs.length > max) items.push([`… and ${prs.length - max} more`]);
  return items;
}

export function chartBlocks(c: ChartStatus, repo: string): Block[] {
  const pinned: Inline[] = c.pinned ? [code(c.pinned)] : [`unknown (${c.pinError ?? "?"})`];
  const newest: Inline[] = c.newest
    ? [code(c.newest.version), c.newest.created ? ` (created ${c.newest.created})` : ""]
    : [`unknown (${c.indexError ?? "?"})`];
  const behind =
    c.versionsBehind === null
      ? "cannot be told"
      : c.versionsBehind === 0
        ? "up to date"
        : `${plural(c.versionsBehind, "published version")} behind`;
  const prs: Inline =
    c.prs === null ? `unknown (${c.prsError ?? "?"})` : c.prs.length === 0 ? "none" : plural(c.prs.length, "upstream PR");
  const blocks: Block[] = [
    para(strong(c.chart)),
    fields([
      ["Pinned", pinned],
      ["Newest published", newest],
      ["Pin", behind],
      ["Between them", prs],
    ]),
  ];
  if (c.prs?.length) blocks.push(list(prItems(repo, c.prs)));
  return blocks;
}

export function runLine(last: LastRun | null, workflow: string): Inline[] {
  if (!last) return [`no completed run of ${workflow} yet`];
  const r = last.run;
  const name = r.number ? `run #${r.number}` : `run ${r.id}`;
  const head: Inline[] = [link(r.url, name), ` (${r.createdAt}): `];
  if (r.conclusion !== "failure") return [...head, strong(r.conclusion === "success" ? "succeeded" : r.conclusion)];
  const jobs = last.failedJobs.length ? ` in ${last.failedJobs.join(", ")}` : "";
  if (!last.verdict) return [...head, strong("failed"), `${jobs}; why: unknown (${last.error ?? "no log read"})`];
  const v = last.verdict;
  return [...head, strong("failed"), `${jobs}; why: ${v.kind}${v.title ? ` — ${v.title}` : ""}`];
}

export function siteItems(sites: readonly SiteHealth[]): Array<Inline[]> {
  return sites.map((h) => [strong(h.site), " ", link(h.url), `: ${healthLine(h)}`]);
}
