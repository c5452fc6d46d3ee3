/** The `check` progress message and answer. */

import type { Config } from "../config/schema.ts";
import { type Block, codeBlock, type Inline, link, para, strong } from "../core/reply.ts";
import type { SiteCheck } from "../deploy/check.ts";
import { healthLine, type SiteHealth } from "../deploy/health.ts";
import type { LaunchEvent } from "../deploy/launch.ts";

export interface SiteProgress {
  site: string;
  health: SiteHealth | null;
  phases: LaunchEvent[];
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/** "waiting → fetching → building (12 s)" */
function phaseLine(phases: readonly LaunchEvent[]): string {
  if (!phases.length) return "";
  const last = phases.at(-1)!;
  return `${phases.map((p) => p.phase).join(" → ")} (${secs(last.atMs)})`;
}

/**
 * The progress message: one line for the site being checked ("Checking prod (2/2): health ok;
 * launch: waiting → fetching (3 s)"), so a platform that edits shows it changing in place and the
 * terminal, which prints each edit, shows one line per phase.
 */
export function progressBlocks(state: readonly SiteProgress[], current: number): Block[] {
  const s = state[current];
  if (!s) return [para("Checking…")];
  const where = state.length > 1 ? ` (${current + 1}/${state.length})` : "";
  if (!s.health) return [para(`Checking ${s.site}${where}: asking /health…`)];
  const launch = s.phases.length ? `; launch: ${phaseLine(s.phases)}` : "";
  return [para(`Checking ${s.site}${where}: health ${healthLine(s.health)}${launch}`)];
}

function siteLine(r: SiteCheck, target: string): Inline[] {
  const mark = r.ok ? "✓" : "✗";
  const out: Inline[] = [`${mark} `, strong(r.site), " ", link(r.url), `: health ${healthLine(r.health)}`];
  const l = r.launch;
  if (!l) return [...out, "; no test launch here (launch: false)"];
  if (l.ok) return [...out, `; launched ${target} in ${secs(l.totalMs)}: ${phaseLine(l.phases)}`];
  const at = l.phases.at(-1)?.phase;
  const what =
    l.outcome === "timeout"
      ? `not ready after ${secs(l.totalMs)}`
      : l.outcome === "failed"
        ? `failed after ${secs(l.totalMs)}`
        : `did not finish (${l.error ?? l.outcome})`;
  return [...out, `; launch of ${target} ${what}${at ? ` at ${at}` : ""}${l.phases.length ? `: ${phaseLine(l.phases)}` : ""}`];
}

export function checkBlocks(results: readonly SiteCheck[], c: Config["check"]): Block[] {
  const target = `${c.repo}@${c.ref}`;
  const blocks: Block[] = [];
  for (const r of results) {
    blocks.push(para(...siteLine(r, target)));
    const l = r.launch;
    if (l && !l.ok && l.lastMessages.length) {
      blocks.push(codeBlock(l.lastMessages.map((m) => `[${m.phase}] ${m.message}`).join("\n")));
    }
  }
  return blocks;
}
