/**
 * The shape of the default branch as CI saw it: first-parent positions (counted from the tip), which
 * default-branch commit was built for a commit, and the tags `git describe --tags` would name.
 */

import { type ChartContext, fetchMirror, remember, short } from "../context.ts";
import { ShaError } from "../errors.ts";

/** Position of every commit on the first-parent chain of `tip` (0 = the tip). Cached per tip. */
export async function firstParents(ctx: ChartContext, tip: string): Promise<Map<string, number>> {
  if (ctx.fp?.tip === tip) return ctx.fp.pos;
  const out = await ctx.mirror.git.out(["rev-list", "--first-parent", "--end-of-options", tip]);
  const pos = new Map<string, number>();
  out.split("\n").forEach((s, i) => {
    if (s) pos.set(s, i);
  });
  ctx.fp = { tip, pos };
  return pos;
}

/**
 * The oldest commit on `tip`'s first-parent chain that contains `commit` (the commit itself when it
 * is on the chain; every newer first-parent commit contains it too), or null when none does.
 */
async function firstParentContaining(
  ctx: ChartContext,
  commit: string,
  tip: string,
  pos: Map<string, number>,
): Promise<{ commit: string; pos: number } | null> {
  const own = pos.get(commit);
  if (own !== undefined) return { commit, pos: own };
  // History is immutable: the first default-branch commit that contained it still does, as long as
  // it is on the chain (a force-push that removed it is recomputed).
  const known = ctx.mergedBy.get(commit);
  const knownPos = known === undefined ? undefined : pos.get(known);
  if (known !== undefined && knownPos !== undefined) return { commit: known, pos: knownPos };
  const git = ctx.mirror.git;
  const anc = await git.run(["merge-base", "--is-ancestor", "--end-of-options", commit, tip], { okCodes: [1] });
  if (anc.code !== 0) return null;
  const desc = await git.out(["rev-list", "--ancestry-path", "--end-of-options", `${commit}..${tip}`]);
  let best: { commit: string; pos: number } | null = null;
  for (const c of desc.split("\n")) {
    const p = pos.get(c);
    if (p !== undefined && p > (best?.pos ?? -1)) best = { commit: c, pos: p };
  }
  if (best) remember(ctx.mergedBy, commit, best.commit);
  return best;
}

/** The default-branch commit CI built for `sha`: itself, or the first one that contains it. */
export async function builtFor(ctx: ChartContext, sha: string): Promise<{ built: string; onFirstParent: boolean }> {
  const locate = async () => {
    const tip = await ctx.mirror.tip();
    const hit = await firstParentContaining(ctx, sha, tip, await firstParents(ctx, tip));
    return hit ? { built: hit.commit, onFirstParent: hit.commit === sha } : null;
  };
  let r = await locate();
  if (!r) {
    // Maybe merged since the last fetch.
    await fetchMirror(ctx).catch(() => {});
    r = await locate();
  }
  if (!r) {
    const branch = await ctx.mirror.branch();
    const out = await ctx.mirror.git.out(["for-each-ref", "--contains", sha, "--format=%(refname)", "refs/heads", "refs/pull"]);
    const refs = out.split("\n").filter(Boolean);
    const on = refs.filter((r) => r.startsWith("refs/heads/")).map((r) => r.slice("refs/heads/".length));
    const prs = refs
      .map((r) => /^refs\/pull\/(\d+)\/head$/.exec(r)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    const where = [...prs.slice(0, 3).map((n) => `PR #${n}`), ...on.slice(0, 3)];
    throw new ShaError(
      "not-merged",
      `${short(sha)} is not merged into ${branch}${where.length ? ` (it is on ${where.join(", ")})` : ""}: there is no chart for it until it is merged.`,
      [],
      { commit: sha, branches: on, prs },
    );
  }
  return r;
}

/** Tag name → tagged commit. Re-read after each fetch; a changed tag set drops the rule's cache. */
export async function tagsOf(ctx: ChartContext): Promise<Map<string, string>> {
  return (await readTags(ctx)).byName;
}

/**
 * The tags a build of a commit made at `at` (ms) could see: those created by then (an annotated
 * tag's tagger date, else the tagged commit's date). A release tag pushed a minute after its merge
 * was not there when CI built the merge: z2jh published `0.10.5-n001.hed9b2f4f` for ed9b2f4f, and
 * only later builds saw its tag `0.10.6`.
 */
export async function tagsVisibleAt(ctx: ChartContext, at: number): Promise<Map<string, string>> {
  const t = await readTags(ctx);
  if (Number.isNaN(at)) return t.byName;
  const out = new Map<string, string>();
  for (const [name, commit] of t.byName) if ((t.created.get(name) ?? 0) <= at) out.set(name, commit);
  return out;
}

async function readTags(ctx: ChartContext): Promise<NonNullable<ChartContext["tags"]>> {
  if (ctx.tags?.key === ctx.mirror.fetchCount) return ctx.tags;
  const out = await ctx.mirror.git.out([
    "for-each-ref",
    "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)%00%(taggerdate:unix)%00%(*committerdate:unix)%00%(committerdate:unix)",
    "refs/tags",
  ]);
  const byName = new Map<string, string>();
  const created = new Map<string, number>();
  for (const line of out.split("\n")) {
    const [name, obj, peeled, tagger, peeledDate, ownDate] = line.split("\0");
    if (!name || !obj) continue;
    byName.set(name, peeled || obj);
    created.set(name, Number(tagger || peeledDate || ownDate || 0) * 1000);
  }
  if (ctx.tags && ctx.tags.byName.size !== byName.size) ctx.computed.clear();
  ctx.tags = { key: ctx.mirror.fetchCount, byName, created };
  return ctx.tags;
}

/**
 * For each tag commit, the oldest position on the default branch's first-parent chain that
 * contains it (positions count from the tip; every newer first-parent commit contains it too).
 * Tags not in the default branch's history are left out.
 */
export async function tagBounds(ctx: ChartContext, tip: string, pos: Map<string, number>): Promise<Map<string, number>> {
  // `tip` is the one `pos` was computed for: a fetch during an answer must not mix two tips.
  if (ctx.tagBounds?.tip === tip && ctx.tagBounds.key === ctx.tags?.key) return ctx.tagBounds.bounds;
  const tags = await tagsOf(ctx);
  const bounds = new Map<string, number>();
  for (const commit of new Set(tags.values())) {
    const hit = await firstParentContaining(ctx, commit, tip, pos);
    if (hit) bounds.set(commit, hit.pos);
  }
  ctx.tagBounds = { tip, key: ctx.tags?.key ?? -1, bounds };
  return bounds;
}

/** `git describe --tags` of a first-parent commit: the tag it would name, and its commit. */
export async function latestTag(
  ctx: ChartContext,
  built: string,
  tip: string,
  pos: Map<string, number>,
  tags: Map<string, string>,
): Promise<{ tag: string; commit: string } | null> {
  const pb = pos.get(built);
  if (pb !== undefined) {
    // Found from each tag's first-parent boundary without a process when that is unambiguous.
    const bounds = await tagBounds(ctx, tip, pos);
    let best: string | null = null;
    let bestBound = Number.POSITIVE_INFINITY;
    let tie = false;
    for (const [, commit] of tags) {
      const b = bounds.get(commit);
      if (b === undefined || b < pb) continue;
      if (b < bestBound) {
        bestBound = b;
        best = commit;
        tie = false;
      } else if (b === bestBound && commit !== best) tie = true;
    }
    if (!best) return null;
    const names = tagsAt(tags, best);
    if (!tie && names.length === 1) return { tag: names[0] as string, commit: best };
  }
  const d = await describe(ctx, built, tags);
  if (!d) return null;
  const commit = tags.get(d.tag);
  return commit ? { tag: d.tag, commit } : null;
}

/** Names of the tags on `commit`. */
export function tagsAt(tags: Map<string, string>, commit: string): string[] {
  return [...tags].filter(([, c]) => c === commit).map(([n]) => n);
}

/**
 * `git describe --tags --long`: the tag and the number of commits since it, or null without one.
 * With `visible`, tags not in it (created after the build) are excluded.
 */
export async function describe(
  ctx: ChartContext,
  sha: string,
  visible?: Map<string, string>,
): Promise<{ tag: string; since: number } | null> {
  const exclude: string[] = [];
  if (visible)
    for (const name of (await readTags(ctx)).byName.keys())
      if (!visible.has(name)) exclude.push(`--exclude=${name.replace(/[*?[\]\\]/g, "\\$&")}`);
  const r = await ctx.mirror.git.run(["describe", "--tags", "--long", "--abbrev=40", ...exclude, "--end-of-options", sha], {
    okCodes: [128],
  });
  if (r.code !== 0) return null;
  const m = /^(.*)-(\d+)-g[0-9a-f]{40}$/.exec(r.stdout.trim());
  return m ? { tag: m[1] as string, since: Number(m[2]) } : null;
}

/** `git rev-list --count`: the number of commits reachable from `sha`. */
export async function countCommits(ctx: ChartContext, sha: string): Promise<number> {
  return Number(await ctx.mirror.git.out(["rev-list", "--count", "--end-of-options", sha]));
}
