import { pinnedVersion as pinFromText } from "../charts/index/deploy-pin.ts";
import type { FailureKind } from "../ci/diagnose-run.ts";
import type { CiRun } from "../ci/provider.ts";
import type { CommandContext } from "../core/command.ts";
import { clip, errorLine } from "../core/one-line.ts";
import { type Block, code, para, strong } from "../core/reply.ts";
import type { Verdict } from "../diagnose/index.ts";
import type { Services } from "../services.ts";
import { chartErrorLine, explanationText } from "./sha-text.ts";

type Ctx = CommandContext<Services>;
/** Taken from the service so that this file does not depend on where the chart service keeps its types. */
type VersionExplanation = Awaited<ReturnType<Services["charts"]["explainVersion"]>>;

/** The part of the `why` answer about a pinned chart version that does not exist: blocks, and `data.chart`. */
export interface ChartCheck {
  blocks: Block[];
  data: Record<string, unknown>;
}

/**
 * A legitimate failure over a missing chart version: finds the pinned version (from the error line, or
 * the pin file at the run's commit) and asks the chart service what was most likely meant. Null when
 * the verdict is not about a chart version, or no chart is named or configured.
 */
export async function chartCheck(ctx: Ctx, run: CiRun, v: Verdict, kind: FailureKind): Promise<ChartCheck | null> {
  const cap = v.captures ?? {};
  if (kind !== "legitimate" || !(v.signature?.family === "chart-version-missing" || (cap.chart && cap.version))) return null;
  const name = cap.chart ?? ctx.services.config.charts[0]?.name;
  if (!name) return null;
  let version = cap.version ?? null;
  let pinFile: string | null = null;
  if (!version) {
    // helm v2/v3 say only "Can't get a valid version for repositories X": read the pin at the run's commit.
    const pin = await pinnedAt(ctx, run, name, cap.file ?? null);
    version = pin?.version ?? null;
    pinFile = pin?.file ?? null;
  }
  if (!version) {
    return {
      blocks: [para("I could not read which version of ", code(name), ` was pinned at ${run.sha.slice(0, 7)}.`)],
      data: { chart: name, version: null },
    };
  }
  const explained = await explainChart(ctx, name, version, pinFile);
  return { blocks: explained.blocks, data: { ...explained.data, ...(pinFile ? { pinFile } : {}) } };
}

/** The chart version pinned in the deploy repository at the run's commit (Chart.yaml, or requirements.yaml before 2020-12). */
async function pinnedAt(
  ctx: Ctx,
  run: CiRun,
  chart: string,
  fileHint: string | null,
): Promise<{ version: string; file: string } | null> {
  const chartFile = ctx.services.config.deploy.chartFile;
  const dir = chartFile.includes("/") ? chartFile.slice(0, chartFile.lastIndexOf("/") + 1) : "";
  const candidates = [...(fileHint ? [`${dir}${fileHint.split("/").pop()}`] : []), chartFile, `${dir}requirements.yaml`].filter(
    (p, i, all) => all.indexOf(p) === i,
  );
  for (const path of candidates) {
    let text: string | null;
    try {
      text = await ctx.services.ci.file(path, run.sha);
    } catch (err) {
      ctx.log.warn({ err: errorLine(err), path }, "could not read the chart pin");
      return null;
    }
    if (text === null) continue;
    let version: string | null = null;
    try {
      version = pinFromText(text, chart);
    } catch {
      continue;
    }
    if (version) return { version, file: path };
  }
  return null;
}

async function explainChart(ctx: Ctx, chart: string, version: string, pinFile: string | null): Promise<ChartCheck> {
  const data: Record<string, unknown> = { chart, version };
  let ex: VersionExplanation;
  try {
    ex = await ctx.services.charts.explainVersion(chart, version);
  } catch (err) {
    const why = clip(chartErrorLine(err), 200);
    return {
      blocks: [para("The pinned chart ", code(`${chart} ${version}`), ` was not found, and I could not look it up: ${why}.`)],
      data: { ...data, error: why },
    };
  }
  Object.assign(data, {
    kind: ex.kind,
    published: ex.published !== null,
    sha: ex.sha,
    correct: ex.correct
      ? { version: ex.correct.version, published: ex.correct.published, publishedAt: ex.correct.publishedAt, pr: ex.correct.pr }
      : null,
    message: explanationText(ex),
  });
  const blocks: Block[] = [para(strong("The pinned chart: "), explanationText(ex))];
  if (ex.correct && ex.correct.version !== version && ex.kind !== "not-published-yet") {
    blocks.push(para("Pin ", code(ex.correct.version), ` in ${pinFile ?? ctx.services.config.deploy.chartFile} instead.`));
  }
  if (ex.kind === "published") {
    blocks.push(para("It is in the chart index now, so it was still publishing when this run started: re-run the failed jobs."));
  }
  if (ex.kind === "not-published-yet") {
    const waiting = await registerChartWaiter(ctx, ex);
    data.waiting = waiting;
    blocks.push(
      para(
        waiting
          ? "It is still publishing; I will tell this room when it appears, then re-run the failed jobs."
          : "It is still publishing (usually 5–20 minutes after the merge); re-run the failed jobs once it is in the chart index.",
      ),
    );
  }
  return { blocks, data };
}

/** Registers "tell this room when the chart appears" with the chart service, as `sha` does. */
async function registerChartWaiter(ctx: Ctx, ex: VersionExplanation): Promise<boolean> {
  if (!ex.correct) return false;
  try {
    await ctx.services.charts.addWaiter(ex.correct, ctx.message);
    return true;
  } catch (err) {
    ctx.log.warn({ err: errorLine(err) }, "could not register a waiter");
    return false;
  }
}
