import type { ChartService } from "../charts/answer/service.ts";
import type { IndexEntry } from "../charts/index/chart-index.ts";
import type { ChartConfig } from "../config/schema.ts";
import { code, type Inline, para, type Reply } from "../core/reply.ts";
import type { Octokit } from "../github/client.ts";

/** A newly published chart version and the PR that made it, as far as it can be told. */
export interface Published {
  chart: string;
  version: string;
  pr: number | null;
  title: string | null;
  mergedAt: string | null;
}

/**
 * The PR behind a published entry: the chart commit's merge on the default branch from the git
 * mirror first (its subject names the PR, its body the title); GitHub when git cannot tell and it
 * is reachable. What cannot be found is left null: the version is announced anyway.
 */
export async function describePublished(
  entry: IndexEntry,
  cfg: ChartConfig,
  charts: () => ChartService,
  github: (() => Octokit) | null,
): Promise<Published> {
  const out: Published = { chart: entry.chart, version: entry.version, pr: null, title: null, mergedAt: null };
  if (!entry.sha) return out;
  try {
    const svc = charts();
    const a = await svc.answer(entry.chart, { kind: "sha", sha: entry.sha }, { pin: false });
    out.pr = a.pr;
    out.mergedAt = a.mergedAt;
    if (a.pr !== null)
      out.title = titleFrom(await svc.mirror(entry.chart).git.out(["log", "-1", "--format=%B", a.builtCommit]), a.pr);
  } catch {
    // the mirror could not tell (unreachable, commit not fetched yet): GitHub below
  }
  if (out.pr !== null || !github) return out;
  try {
    const [owner, repo] = cfg.github.split("/") as [string, string];
    const { data } = await github().rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: entry.sha });
    const pr = data.find((p) => p.merged_at) ?? data[0];
    if (pr) {
      out.pr = pr.number;
      out.title = pr.title;
      out.mergedAt = pr.merged_at ?? out.mergedAt;
    }
  } catch {
    // GitHub unreachable: announced without the PR
  }
  return out;
}

/** The PR title from a merge commit's message ("Merge pull request #N from …\n\nTitle") or a squash subject ("Title (#N)"). */
function titleFrom(message: string, pr: number): string | null {
  const lines = message.split("\n").map((l) => l.trim());
  const subject = lines[0] ?? "";
  if (/^Merge pull request #\d+/.test(subject)) return lines.slice(1).find((l) => l !== "") ?? null;
  const squash = new RegExp(`^(.*?)\\s*\\(#${pr}\\)$`).exec(subject);
  return squash?.[1] ? squash[1] : subject || null;
}

function prText(p: Published, now: Date): Inline[] {
  const parts: string[] = [];
  if (p.pr !== null) parts.push(`PR #${p.pr}${p.title ? ` "${p.title}"` : ""}`);
  if (p.mergedAt) parts.push(`merged ${minutesAgo(p.mergedAt, now)}`);
  return parts.length ? [` (${parts.join(", ")})`] : [];
}

function minutesAgo(iso: string, now: Date): string {
  const m = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
  if (m < 120) return `${m} minute${m === 1 ? "" : "s"} ago`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} hours ago` : `${Math.floor(h / 24)} days ago`;
}

function pin(p: Published): Inline[] {
  return [" Pin: ", code(`version: "${p.version}"`)];
}

/** "binderhub 1.0.0-… is published (PR #1887 "title", merged 9 minutes ago). Pin: `version: "…"`", folded for several. */
export function publishedReply(list: readonly Published[], now: Date): Reply {
  // newest first: the pin line goes with the first
  const blocks = list.map((p, i) =>
    para(`${p.chart} `, code(p.version), " is published", ...prText(p, now), ".", ...(i === 0 ? pin(p) : [])),
  );
  return { ok: true, blocks, data: { notification: "published", versions: list.map((p) => ({ ...p })) } };
}

/** A waiter's message: the same news, naming who asked. */
export function waiterReply(p: Published, names: readonly string[], now: Date): Reply {
  return {
    ok: true,
    blocks: [
      para(
        `${names.join(", ")}: you asked to be told. ${p.chart} `,
        code(p.version),
        " is published",
        ...prText(p, now),
        ".",
        ...pin(p),
      ),
    ],
    data: { notification: "waiter", ...p, askedBy: [...names] },
  };
}
