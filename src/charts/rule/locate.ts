import { posix } from "node:path";
import type { Git } from "../git/git.ts";

/** Where a chart's build configuration lives at one commit. */
export interface ChartpressLocation {
  /** Folder relative to the repository root ("." for the root): chartpress runs here. */
  dir: string;
  /** chartpress.yaml, or the vendored build script used before it existed (2017). */
  kind: "chartpress.yaml" | "build.py";
}

/**
 * The folder chartpress (or its build.py predecessor) ran in at `commit`: the one that holds the
 * chart folder `<chart>/Chart.yaml` next to `chartpress.yaml` or `build.py` — chartpress names the
 * chart folder after the chart, relative to chartpress.yaml. binderhub: `helm-chart`; z2jh: the root.
 * With `fixed`, only that folder is looked at. Looks at the root and one level down, reading trees
 * only (nothing is fetched in a blobless mirror); null when no folder fits.
 */
export async function locateChartpress(
  git: Git,
  commit: string,
  chart: string,
  fixed?: string,
): Promise<ChartpressLocation | null> {
  const candidates = fixed !== undefined ? [normalizeDir(fixed)] : await folders(git, commit);
  for (const dir of candidates) {
    const at = (p: string) => (dir === "." ? p : posix.join(dir, p));
    const [chartYaml, cp, script] = await Promise.all([
      git.pathOid(commit, at(`${chart}/Chart.yaml`)),
      git.pathOid(commit, at("chartpress.yaml")),
      git.pathOid(commit, at("build.py")),
    ]);
    if (cp?.type === "blob" && (chartYaml?.type === "blob" || fixed !== undefined)) return { dir, kind: "chartpress.yaml" };
    if (script?.type === "blob" && chartYaml?.type === "blob") return { dir, kind: "build.py" };
  }
  return null;
}

/** "." and every top-level folder, the root first. */
async function folders(git: Git, commit: string): Promise<string[]> {
  const root = await git.listTree(commit, ".");
  const dirs = root ? [...root].filter(([, e]) => e.type === "tree").map(([name]) => name) : [];
  return [".", ...dirs.sort()];
}

/** `helm-chart/`, `./helm-chart` → `helm-chart`; `""`, `./` → `.`. */
export function normalizeDir(dir: string): string {
  const n = posix.normalize(dir.trim() || ".").replace(/\/+$/, "");
  return n === "" ? "." : n;
}
