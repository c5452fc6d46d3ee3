import { PUBLISH_DELAY, type ShaAnswer } from "../charts/answer/types.ts";
import { ShaError } from "../charts/errors.ts";
import type { CommandSpec } from "../core/command.ts";
import { errorLine } from "../core/one-line.ts";
import { parseRef, SHA_PATTERN, type UserRef } from "../core/ref.ts";
import { type Block, code, codeBlock, fail, fields, type Inline, list, ok, para, strong } from "../core/reply.ts";
import type { Services } from "../services.ts";
import { builderText, formatAge, notesText, reasonText, shaErrorDetail, shaErrorText } from "./sha-text.ts";

const REF = String.raw`(?<ref>#\d{1,9}|\d{1,6}|${SHA_PATTERN}|<?https?:\/\/github\.com\/[^\s>]+>?)`;

/**
 * Plain questions: "which sha do I use for #395?", "what version is 4e3bafb?", "which chart for 4e3bafb".
 * Matched against the text with its spaces normalised to single spaces (the parser does it). Each
 * pattern runs in linear time: anchored at both ends, one greedy run that backtracks to the last
 * "for/of/is…" before the ref, and the keyword checked by a lookahead that commits to the first one.
 */
const INTENTS = [
  {
    example: "which sha do I use for #395?",
    pattern: new RegExp(
      String.raw`^(?:which|what)\b(?=[^?]*?\b(?:sha|hash|version|chart)\b)[^?]*\b(?:for|of|is|from|at) (?:commit |pr |pull request )?${REF} ?\??$`,
      "i",
    ),
  },
  {
    example: "which chart 4e3bafb?",
    pattern: new RegExp(String.raw`^(?:which|what) (?:chart|version|chart version) ${REF} ?\??$`, "i"),
  },
];

export const sha: CommandSpec<Services> = {
  name: "sha",
  aliases: ["chart-version"],
  summary: "The exact chart version for a commit or PR, whether it is published, and the line to pin",
  description:
    "Computes the chart version exactly as chartpress did for that commit (chart paths and baseVersion read from chartpress.yaml at the commit, with the rules of the chartpress version of the time), matches it against the published chart index, and shows the line for the deploy repository's chart file. A merge, a PR-branch commit or a commit outside the chart paths gets the chart that CI really built, with the reason. Without a ref: the tip of the default branch.",
  args: [
    { name: "chart", type: "string", leading: true, description: "which chart, when several are configured" },
    { name: "ref", type: "ref", description: "a commit hash (7–40 hex), #PR, PR number or URL, or a branch" },
  ],
  examples: ["sha 4e3bafb", "sha #395", "sha", "sha binderhub main"],
  access: "anyone",
  sideEffects: "when the chart is not published yet, remembers to tell this room when it appears",
  intents: INTENTS.map((i) => ({ ...i, args: (m: RegExpMatchArray) => [m.groups?.ref ?? ""] })),
  async run(ctx, { args }) {
    const svc = ctx.services.charts;
    const charts = svc.charts();
    let chart = (args.chart as string | undefined) ?? charts[0]!;
    let refText = args.ref as string | undefined;
    // `sha binderhub`: a chart name alone means the tip of its default branch.
    if (args.chart === undefined && refText !== undefined && charts.includes(refText)) {
      chart = refText;
      refText = undefined;
    }
    if (!charts.includes(chart)) {
      return fail(`There is no chart '${chart}' (configured: ${charts.join(", ")}).`);
    }
    let ref: UserRef | undefined;
    if (refText !== undefined) {
      const r = parseRef(refText);
      if ("error" in r) return fail(r.error);
      ref = r;
    }
    let a: ShaAnswer;
    try {
      a = await svc.answer(chart, ref);
    } catch (e) {
      if (e instanceof ShaError) {
        const detail = shaErrorDetail(e);
        return fail(shaErrorText(e), detail.length ? [list(detail.map((d) => code(d)))] : [], {
          chart,
          error: e.code,
          ...e.data,
        });
      }
      ctx.log.error({ err: e }, "sha failed");
      return fail(`Could not work out the chart: ${errorLine(e)}`, [], { chart, error: "internal" });
    }

    let waiter: string | null = null;
    const recent = a.minutesSinceMerge < 24 * 60;
    if (!a.published && recent && a.index.fetchedAt !== null) {
      try {
        waiter = await svc.addWaiter(a, ctx.message);
      } catch (e) {
        ctx.log.warn({ err: errorLine(e) }, "could not register a waiter");
      }
    }
    return ok(render(a, waiter !== null, ctx.services.now()), data(a, waiter));
  },
};

function shortSha(a: ShaAnswer, sha: string): string {
  return sha.slice(0, Math.max(7, a.hashLength));
}

function render(a: ShaAnswer, waiting: boolean, now: Date): Block[] {
  const blocks: Block[] = [];
  blocks.push(para("Pin ", strong(a.version), ` (${a.chart} chart)`));
  const entries: Array<[string, Inline | Inline[]]> = [];
  const asked: Inline[] = [code(shortSha(a, a.commit))];
  if (a.pr) asked.push(` (#${a.pr})`);
  if (a.builtCommit !== a.commit) asked.push(" — merged by ", code(shortSha(a, a.builtCommit)));
  entries.push(["Commit", asked]);
  entries.push(["Chart commit", [code(shortSha(a, a.chartCommit)), ` — ${reasonText(a)}`]]);
  if (a.published) {
    entries.push(["Published", `yes, ${a.publishedAt ?? "(no created time in the index)"}`]);
  } else if (a.index.fetchedAt === null) {
    entries.push([
      "Published",
      `unknown: the chart index ${a.index.source} could not be read (${a.index.error ?? "no copy"}); predicted version shown`,
    ]);
  } else if (a.index.olderThanMerge && a.index.generated) {
    // Not a failed publish: the copy read was written before this merge, so it cannot list it yet.
    entries.push([
      "Published",
      `unknown: the index copy is from ${a.index.generated}, older than this merge (${a.mergedAt}); predicted version shown`,
    ]);
  } else if (a.minutesSinceMerge < 24 * 60) {
    const late = a.minutesSinceMerge > PUBLISH_DELAY.p90Min * 3;
    entries.push([
      "Published",
      `not yet — merged ${a.minutesSinceMerge} min ago; publishing usually takes ~${PUBLISH_DELAY.medianMin} min (90% within ${PUBLISH_DELAY.p90Min})${late ? "; this is late, the publish job may have failed" : ""}.${waiting ? " I'll tell this room when it appears." : ""}`,
    ]);
  } else {
    const pruned = /^\d+\.\d+\.\d+-\d{3}\.[0-9a-f]+$/.test(a.computed);
    entries.push([
      "Published",
      pruned
        ? "not in the index: versions of this format (chartpress 0.4/0.5, 2019-11/12) were pruned from the index in 2021 and cannot be installed any more"
        : `not in the index, ${Math.round(a.minutesSinceMerge / 60 / 24)} days after the merge: the publish job probably failed or was skipped for this push`,
    ]);
  }
  entries.push(["chartpress", builderText(a.builder)]);
  blocks.push(fields(entries));
  for (const note of notesText(a)) blocks.push(para(`Note: ${note}`));
  if (a.pin) {
    const p = a.pin;
    blocks.push(para(`In ${p.repo} ${p.file}, under the ${a.chart} dependency:`));
    blocks.push(codeBlock(p.line, "yaml"));
    if (p.pinned) {
      const rel =
        p.behind === null
          ? ""
          : p.behind === 0
            ? " — already this version"
            : p.behind > 0
              ? ` — ${p.behind} chart version${p.behind === 1 ? "" : "s"} behind this one`
              : ` — ${-p.behind} chart version${p.behind === -1 ? "" : "s"} newer than this one`;
      blocks.push(para(`Pinned now on ${p.branch}: `, code(p.pinned), rel));
    } else if (p.error) {
      blocks.push(para(`Pinned now: unknown (${p.error})`));
    }
  }
  if (a.index.error && a.index.fetchedAt) {
    const age = formatAge(now.getTime() - Date.parse(a.index.fetchedAt));
    blocks.push(
      para(`(Chart index could not be read: ${a.index.error ?? "refresh failed"}; answered from the copy of ${age} ago.)`),
    );
  }
  return blocks;
}

function data(a: ShaAnswer, waiter: string | null): Record<string, unknown> {
  return {
    chart: a.chart,
    commit: a.commit,
    builtCommit: a.builtCommit,
    chartCommit: a.chartCommit,
    version: a.version,
    computed: a.computed,
    published: a.published,
    publishedAt: a.publishedAt,
    pinned: a.pin?.pinned ?? null,
    pinLine: a.pin?.line ?? null,
    behind: a.pin?.behind ?? null,
    relation: a.relation,
    reason: reasonText(a),
    pr: a.pr,
    chartpress: builderText(a.builder),
    paths: a.paths,
    mergedAt: a.mergedAt,
    minutesSinceMerge: a.minutesSinceMerge,
    index: a.index,
    notes: notesText(a),
    waiter,
  };
}
