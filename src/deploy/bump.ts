/**
 * The bump pull request on the deploy repository: one branch per chart (`binderbot/bump-<chart>`),
 * reset to the default branch and given one commit that changes only the pinned version line; an
 * open bump PR of the chart is updated in place rather than a second one opened.
 */

import type { Octokit } from "../github/client.ts";
import { githubErrorLine, githubStatus } from "../github/client.ts";
import type { Services } from "../services.ts";
import { prsBetween } from "./chart-status.ts";
import { readDeployFile, splitRepo } from "./deploy-file.ts";
import { locatePin, rewritePin } from "./pin-edit.ts";
import type { UpstreamPr } from "./upstream.ts";

export interface BumpRequest {
  chart: string;
  /** A published version (see bump-target.ts). */
  version: string;
  /** Who asked (`slack:U…`), for the PR body. */
  requestedBy: string;
}

export interface BumpResult {
  kind: "opened" | "updated" | "already-pinned";
  chart: string;
  from: string;
  to: string;
  file: string;
  /** The bump PR (absent when already pinned). */
  pr: { number: number; url: string } | null;
  prs: UpstreamPr[] | null;
  prsError: string | null;
  compareUrl: string | null;
  /** The version line before and after, as written in the file. */
  lines: { before: string; after: string } | null;
}

export class BumpError extends Error {}

const bumpBranch = (chart: string) => `binderbot/bump-${chart}`;

type Deps = Pick<Services, "config" | "charts" | "github">;

/** Opens (or updates) the bump PR. Throws BumpError with one line when GitHub refuses a step. */
export async function openBump(s: Deps, req: BumpRequest): Promise<BumpResult> {
  const d = s.config.deploy;
  const gh = s.github;
  const target = splitRepo(d.github);
  const branch = bumpBranch(req.chart);
  const step = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof BumpError) throw e;
      throw new BumpError(`Could not ${what}: ${githubErrorLine(e)}`);
    }
  };

  // The file as it is at the default branch's tip: the branch is reset there, so the PR's diff is
  // exactly the one line, and the blob sha matches when the file is written.
  const baseSha = await step(`read ${d.branch} of ${d.github}`, async () => {
    const r = await gh.git.getRef({ ...target, ref: `heads/${d.branch}` });
    return r.data.object.sha;
  });
  const file = await step(`read ${d.chartFile}`, () => readDeployFile(gh, d.github, d.chartFile, baseSha));
  const loc = locatePin(file.text, req.chart);
  const chartRepo = s.config.charts.find((c) => c.name === req.chart)?.github ?? req.chart;
  const base: Omit<BumpResult, "kind" | "pr" | "lines"> = {
    chart: req.chart,
    from: loc.version,
    to: req.version,
    file: d.chartFile,
    prs: null,
    prsError: null,
    compareUrl: null,
  };
  if (loc.version === req.version) return { ...base, kind: "already-pinned", pr: null, lines: null };
  const edited = rewritePin(file.text, req.chart, req.version);

  const between = await prsBetween(s, req.chart, loc.version, req.version);
  base.prs = between.prs;
  base.prsError = between.error;
  if (between.fromCommit && between.toCommit) {
    base.compareUrl = `https://github.com/${chartRepo}/compare/${between.fromCommit}...${between.toCommit}`;
  }

  const open = await step("list the open bump PRs", async () => {
    const r = await gh.pulls.list({ ...target, state: "open", head: `${target.owner}:${branch}`, per_page: 10 });
    return r.data[0] ?? null;
  });
  await step(`point ${branch} at ${d.branch}`, () => resetBranch(gh, target, branch, baseSha));
  const title = `Bump ${req.chart} to ${req.version}`;
  await step(`commit to ${branch}`, () =>
    gh.repos.createOrUpdateFileContents({
      ...target,
      path: d.chartFile,
      branch,
      sha: file.sha,
      message: `${title}\n\nfrom ${loc.version}${between.prs?.length ? `; upstream PRs: ${between.prs.map((p) => `#${p.number}`).join(", ")}` : ""}`,
      content: Buffer.from(edited.text, "utf8").toString("base64"),
    }),
  );
  const body = prBody({ ...base, kind: "opened", pr: null, lines: null }, chartRepo, req.requestedBy);
  const pr = open
    ? await step(`update PR #${open.number}`, async () => {
        const r = await gh.pulls.update({ ...target, pull_number: open.number, title, body });
        return r.data;
      })
    : await step("open the PR", async () => {
        const r = await gh.pulls.create({ ...target, title, body, head: branch, base: d.branch });
        return r.data;
      });
  return {
    ...base,
    kind: open ? "updated" : "opened",
    pr: { number: pr.number, url: pr.html_url },
    lines: { before: loc.text.trim(), after: edited.text.split(/\r?\n/)[loc.line]!.trim() },
  };
}

/** Creates the branch at `sha`, or force-moves it there when it exists (an earlier bump). */
async function resetBranch(gh: Octokit, target: { owner: string; repo: string }, branch: string, sha: string): Promise<void> {
  try {
    await gh.git.getRef({ ...target, ref: `heads/${branch}` });
  } catch (e) {
    if (githubStatus(e) !== 404) throw e;
    await gh.git.createRef({ ...target, ref: `refs/heads/${branch}`, sha });
    return;
  }
  await gh.git.updateRef({ ...target, ref: `heads/${branch}`, sha, force: true });
}

/** The PR description: what changes, the upstream PRs it brings, the compare view. */
function prBody(r: BumpResult, chartRepo: string, requestedBy: string): string {
  const lines = [`Bumps \`${r.chart}\` in \`${r.file}\` from \`${r.from}\` to \`${r.to}\`.`, ""];
  if (r.prs === null) lines.push(`Upstream PRs: unknown (${r.prsError ?? "?"}).`);
  else if (r.prs.length === 0) lines.push("No upstream PRs between the two chart commits.");
  else {
    lines.push(`Upstream PRs included (${r.prs.length}):`, "");
    for (const p of r.prs) lines.push(`- ${chartRepo}#${p.number} ${p.title}`);
  }
  if (r.compareUrl) lines.push("", `Compare: ${r.compareUrl}`);
  lines.push("", `Requested by ${requestedBy} in chat (\`bump\`). Only the version line of the ${r.chart} dependency changes.`);
  return lines.join("\n");
}
