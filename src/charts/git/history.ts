/**
 * What the history of a chart's repository says, as CI saw it: first-parent positions of the
 * default branch (counted from the tip), which default-branch commit was built for a commit, the
 * tags `git describe --tags` would name, and commit headers.
 *
 * One `History` per mirror owns every cache of it. What depends on the tip and the tags lives in a
 * `HistoryView`: one tip and one tag set, read together by one `git for-each-ref`, never changed
 * afterwards. An answer takes one view and uses it to the end, so a fetch that lands meanwhile cannot
 * mix two tips (positions of one, tag bounds of another); the next answer gets a new view. What does
 * not depend on the tip (commit headers, the merge that brought a commit in) is kept by `History`.
 */

import { FULL_SHA_PATTERN } from "../../core/ref.ts";
import { remember } from "./bounded.ts";
import { isFullSha } from "./git.ts";
import type { Mirror } from "./mirror.ts";

/** A commit as the rule needs it. */
export interface CommitInfo {
  sha: string;
  parents: string[];
  /** committer date, ISO */
  date: string;
  subject: string;
}

/** Tag name → tagged commit, and → creation time (ms: an annotated tag's tagger date, else the commit's). */
export interface TagSet {
  /** Tells tag sets apart: equal ids, equal tags (names, commits and times). */
  readonly id: number;
  readonly byName: ReadonlyMap<string, string>;
  readonly created: ReadonlyMap<string, number>;
}

/** Where a commit was built: itself (on the first-parent chain), or the first chain commit containing it. */
export interface Built {
  built: string;
  onFirstParent: boolean;
}

/** `git describe --long --abbrev=40` output: `<tag>-<since>-g<full sha>`. */
const DESCRIBED = new RegExp(`^(.*)-(\\d+)-g${FULL_SHA_PATTERN}$`);

const REF_FORMAT =
  "%(refname)%00%(objectname)%00%(*objectname)%00%(taggerdate:unix)%00%(*committerdate:unix)%00%(committerdate:unix)";

/** The history of one mirror; see the file comment. */
export class History {
  readonly #mirror: Mirror;
  readonly #commits = new Map<string, CommitInfo>();
  /** A commit off the first-parent chain → the first default-branch commit that contained it. */
  readonly #mergedBy = new Map<string, string>();
  #view: HistoryView | null = null;
  /** The refs as read after the mirror's fetch number `key` (concurrent callers share one read). */
  #reading: { key: number; view: Promise<HistoryView> } | null = null;
  #tagTexts: { text: string; id: number } | null = null;
  #nextTagId = 1;

  constructor(mirror: Mirror) {
    this.#mirror = mirror;
  }

  get git() {
    return this.#mirror.git;
  }

  /**
   * The tip and tags as of the mirror's last fetch. The same object while neither changes, so its
   * positions and tag bounds are computed once per tip and tag set.
   */
  current(): Promise<HistoryView> {
    const key = this.#mirror.fetchCount;
    if (this.#reading?.key !== key) {
      const view = this.#readRefs();
      this.#reading = { key, view };
      view.catch(() => {
        if (this.#reading?.view === view) this.#reading = null;
      });
    }
    return this.#reading.view;
  }

  async #readRefs(): Promise<HistoryView> {
    const branchRef = `refs/heads/${await this.#mirror.branch()}`;
    const out = await this.git.out(["for-each-ref", `--format=${REF_FORMAT}`, branchRef, "refs/tags"]);
    let tip: string | null = null;
    const tagLines: string[] = [];
    const byName = new Map<string, string>();
    const created = new Map<string, number>();
    for (const line of out.split("\n")) {
      const [ref, obj, peeled, tagger, peeledDate, ownDate] = line.split("\0");
      if (!ref || !obj) continue;
      if (ref === branchRef) {
        tip = obj;
        continue;
      }
      if (!ref.startsWith("refs/tags/")) continue;
      tagLines.push(line);
      const name = ref.slice("refs/tags/".length);
      byName.set(name, peeled || obj);
      created.set(name, Number(tagger || peeledDate || ownDate || 0) * 1000);
    }
    if (!tip || !isFullSha(tip)) throw new Error(`the mirror has no branch ${branchRef.slice("refs/heads/".length)}`);
    const text = tagLines.join("\n");
    if (this.#tagTexts?.text !== text) this.#tagTexts = { text, id: this.#nextTagId++ };
    const prev = this.#view;
    if (prev && prev.tip === tip && prev.tags.id === this.#tagTexts.id) return prev;
    const tags: TagSet = { id: this.#tagTexts.id, byName, created };
    this.#view = new HistoryView(this, tip, tags, prev?.tip === tip ? prev : null);
    return this.#view;
  }

  /** Parents, committer date and subject of a commit (null: no such commit), read through the cat-file helper. */
  async commitInfo(sha: string): Promise<CommitInfo | null> {
    const hit = this.#commits.get(sha);
    if (hit) return hit;
    const text = await this.git.readCommit(sha);
    if (text === null) return null;
    const nl = text.indexOf("\n\n");
    const head = nl < 0 ? text : text.slice(0, nl);
    const parents: string[] = [];
    let date = "";
    for (const line of head.split("\n")) {
      if (line.startsWith("parent ")) parents.push(line.slice(7).trim());
      else if (line.startsWith("committer ")) {
        const m = / (\d+) ([+-]\d{4})$/.exec(line);
        if (m) date = new Date(Number(m[1]) * 1000).toISOString();
      }
    }
    const subject = nl < 0 ? "" : (text.slice(nl + 2).split("\n")[0] ?? "");
    return remember(this.#commits, sha, { sha, parents, date, subject });
  }

  /** `git rev-list --count`: the number of commits reachable from `sha`. */
  async countCommits(sha: string): Promise<number> {
    return Number(await this.git.out(["rev-list", "--count", "--end-of-options", sha]));
  }

  /** The merge that brought `commit` in, as found before (still to be checked against a view's chain). */
  mergedBy(commit: string): string | undefined {
    return this.#mergedBy.get(commit);
  }

  rememberMerge(commit: string, by: string): void {
    remember(this.#mergedBy, commit, by);
  }
}

/** The history at one tip with one tag set; immutable, its derived maps computed once. */
export class HistoryView {
  #positions: Promise<Map<string, number>> | null;
  #bounds: Promise<Map<string, number>> | null = null;

  constructor(
    readonly history: History,
    /** Full SHA of the default branch's tip. */
    readonly tip: string,
    readonly tags: TagSet,
    /** An earlier view of the same tip (other tags): its positions are these. */
    sameTip: HistoryView | null,
  ) {
    this.#positions = sameTip ? sameTip.#positions : null;
  }

  /** Position of every commit on the first-parent chain of the tip (0 = the tip). */
  positions(): Promise<Map<string, number>> {
    if (!this.#positions) {
      const p = this.history.git.out(["rev-list", "--first-parent", "--end-of-options", this.tip]).then((out) => {
        const pos = new Map<string, number>();
        out.split("\n").forEach((s, i) => {
          if (s) pos.set(s, i);
        });
        return pos;
      });
      this.#positions = p;
      p.catch(() => {
        if (this.#positions === p) this.#positions = null;
      });
    }
    return this.#positions;
  }

  /**
   * The oldest commit on the tip's first-parent chain that contains `commit` (the commit itself when
   * it is on the chain; every newer first-parent commit contains it too), or null when none does.
   */
  async firstParentContaining(commit: string): Promise<{ commit: string; pos: number } | null> {
    const pos = await this.positions();
    const own = pos.get(commit);
    if (own !== undefined) return { commit, pos: own };
    // History is immutable: the first default-branch commit that contained it still does, as long as
    // it is on the chain (a force-push that removed it is recomputed).
    const known = this.history.mergedBy(commit);
    const knownPos = known === undefined ? undefined : pos.get(known);
    if (known !== undefined && knownPos !== undefined) return { commit: known, pos: knownPos };
    const git = this.history.git;
    const anc = await git.run(["merge-base", "--is-ancestor", "--end-of-options", commit, this.tip], { okCodes: [1] });
    if (anc.code !== 0) return null;
    const desc = await git.out(["rev-list", "--ancestry-path", "--end-of-options", `${commit}..${this.tip}`]);
    let best: { commit: string; pos: number } | null = null;
    for (const c of desc.split("\n")) {
      const p = pos.get(c);
      if (p !== undefined && p > (best?.pos ?? -1)) best = { commit: c, pos: p };
    }
    if (best) this.history.rememberMerge(commit, best.commit);
    return best;
  }

  /** The default-branch commit CI built for `sha` at this tip: itself, or the first that contains it; null when none does. */
  async builtFor(sha: string): Promise<Built | null> {
    const hit = await this.firstParentContaining(sha);
    return hit ? { built: hit.commit, onFirstParent: hit.commit === sha } : null;
  }

  /**
   * The tags a build of a commit made at `at` (ms) could see: those created by then (an annotated
   * tag's tagger date, else the tagged commit's date). A release tag pushed a minute after its merge
   * was not there when CI built the merge: z2jh published `0.10.5-n001.hed9b2f4f` for ed9b2f4f, and
   * only later builds saw its tag `0.10.6`.
   */
  tagsVisibleAt(at: number): Map<string, string> {
    if (Number.isNaN(at)) return new Map(this.tags.byName);
    const out = new Map<string, string>();
    for (const [name, commit] of this.tags.byName) if ((this.tags.created.get(name) ?? 0) <= at) out.set(name, commit);
    return out;
  }

  /**
   * For each tag commit, the oldest position on the first-parent chain that contains it (positions
   * count from the tip; every newer first-parent commit contains it too). Tags not in the default
   * branch's history are left out. Computed once for this tip and tag set.
   */
  tagBounds(): Promise<Map<string, number>> {
    if (!this.#bounds) {
      const p = (async () => {
        const bounds = new Map<string, number>();
        for (const commit of new Set(this.tags.byName.values())) {
          const hit = await this.firstParentContaining(commit);
          if (hit) bounds.set(commit, hit.pos);
        }
        return bounds;
      })();
      this.#bounds = p;
      p.catch(() => {
        if (this.#bounds === p) this.#bounds = null;
      });
    }
    return this.#bounds;
  }

  /** `git describe --tags` of a commit, among the tags `visible`: the tag it would name, and its commit. */
  async latestTag(built: string, visible: ReadonlyMap<string, string>): Promise<{ tag: string; commit: string } | null> {
    const pb = (await this.positions()).get(built);
    if (pb !== undefined) {
      // Found from each tag's first-parent boundary without a process when that is unambiguous.
      const bounds = await this.tagBounds();
      let best: string | null = null;
      let bestBound = Number.POSITIVE_INFINITY;
      let tie = false;
      for (const [, commit] of visible) {
        const b = bounds.get(commit);
        if (b === undefined || b < pb) continue;
        if (b < bestBound) {
          bestBound = b;
          best = commit;
          tie = false;
        } else if (b === bestBound && commit !== best) tie = true;
      }
      if (!best) return null;
      const names = tagsAt(visible, best);
      if (!tie && names.length === 1) return { tag: names[0] as string, commit: best };
    }
    const d = await this.describe(built, visible);
    if (!d) return null;
    const commit = visible.get(d.tag);
    return commit ? { tag: d.tag, commit } : null;
  }

  /**
   * `git describe --tags --long` among the tags `visible` (by default all of this view's): the tag and
   * the number of commits since it, or null without one. Only tags of this view are considered, even
   * when a fetch has added tags to the mirror since it was read.
   */
  async describe(
    sha: string,
    visible: ReadonlyMap<string, string> = this.tags.byName,
  ): Promise<{ tag: string; since: number } | null> {
    if (visible.size === 0) return null;
    const match = [...visible.keys()].map((name) => `--match=${name.replace(/[*?[\]\\]/g, "\\$&")}`);
    const r = await this.history.git.run(["describe", "--tags", "--long", "--abbrev=40", ...match, "--end-of-options", sha], {
      okCodes: [128],
    });
    if (r.code !== 0) return null;
    const m = DESCRIBED.exec(r.stdout.trim());
    return m ? { tag: m[1] as string, since: Number(m[2]) } : null;
  }
}

/** Names of the tags on `commit`. */
export function tagsAt(tags: ReadonlyMap<string, string>, commit: string): string[] {
  return [...tags].filter(([, c]) => c === commit).map(([n]) => n);
}
