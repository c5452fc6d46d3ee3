// Is the compiled build in dist/ there and at least as new as every source it is built from?
// Used by bin/binderbot.js (refuse to run a stale build), scripts/build.mjs and the test setup.
// No dependencies: it must work before anything is built.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..");
export const DIST = join(ROOT, "dist");
/** Written by scripts/build.mjs with the time its build started. */
export const STAMP = join(DIST, ".build-stamp");
/** What the build compiles (tsconfig.build.json) and what changes its output. */
export const SOURCE_DIRS = ["src", "adapters"];
export const BUILD_FILES = ["tsconfig.json", "tsconfig.build.json"];

/** The newest modification time (ms) under the sources; a directory's own time covers added and removed files. */
export function newestSource(root = ROOT) {
  let newest = 0;
  let newestPath = "";
  const visit = (p, isDir) => {
    const t = statSync(p).mtimeMs;
    // On a tie, name the file rather than its directory.
    if (t > newest || (t === newest && !isDir)) {
      newest = t;
      newestPath = p;
    }
    if (!isDir) return;
    for (const e of readdirSync(p, { withFileTypes: true })) visit(join(p, e.name), e.isDirectory());
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) visit(join(root, d), true);
  for (const f of BUILD_FILES) if (existsSync(join(root, f))) visit(join(root, f), false);
  return { mtimeMs: newest, path: newestPath };
}

/**
 * Why dist/ cannot be run, or null when it can. An installed copy without sources (the Docker image)
 * is whatever was built into it.
 */
export function buildProblem(root = ROOT) {
  const stamp = join(root, "dist", ".build-stamp");
  if (!existsSync(stamp)) return "the compiled build (dist/) is missing: run `npm run build` (`npm install` builds it too)";
  const src = newestSource(root);
  if (src.mtimeMs > statSync(stamp).mtimeMs) {
    const rel = src.path.slice(root.length + 1);
    return `the compiled build (dist/) is older than ${rel}: run \`npm run build\` (or \`npm run dev -- …\` to run the sources)`;
  }
  return null;
}
