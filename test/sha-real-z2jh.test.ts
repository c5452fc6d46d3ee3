import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkPublishedHistory, eraOf, historyTable } from "./helpers/chart-history.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const INDEX = path.resolve(repoRoot, "../shared/data/helm-chart-index-2024-10-24.yaml");
/** A clone of jupyterhub/zero-to-jupyterhub-k8s (`git clone --mirror` of the bundle; .ci/run sets it). */
const Z2JH_GIT = process.env.Z2JH_GIT ?? "";
const have = Z2JH_GIT !== "" && existsSync(path.join(Z2JH_GIT, "HEAD")) && existsSync(INDEX);
const why = have ? "" : ` (skipped: ${Z2JH_GIT ? `no git repository at Z2JH_GIT=${Z2JH_GIT}` : "Z2JH_GIT is not set"})`;

/**
 * The cases that were wrong before each era's rule was learnt, from z2jh's real history: 2017's
 * build.py (v0.4.0/v0.5.0-<sha7>, a branch build and a default-branch one), the 0.9.0 era's 7-digit
 * hash next to the later 8-digit one of the same commit, a release tag made after its merge
 * (0.10.5-n001 before 0.10.6-n000 of ed9b2f4f) and one pushed with its commit (0.10.5-n000,
 * 0.10.4-n000, 0.9.0-beta.3.n000), the 0.6 format of a commit first built with 0.5, and an unpinned
 * chartpress five minutes before 2.0.0 was released.
 */
const HARD = new Set([
  "v0.4.0-c74aa35",
  "v0.4.0-1ffe7e3",
  "v0.5.0-d3017dd",
  "v0.5.0-f963312",
  "0.9.0-n212.hdd4fd8b",
  "0.9.0-n212.hdd4fd8bd",
  "0.10.5-n001.hed9b2f4f",
  "0.10.6-n000.hed9b2f4f",
  "0.10.5-n000.h4f739e88",
  "0.10.4-n000.h455db6f5",
  "0.9.0-beta.3.n000.h9e1a7f9",
  "0.9.0-beta.2.n000.hbed779e",
  "2.0.0-beta.1.n031.hc5adeae4",
  "0.5.0",
]);

describe.skipIf(!have)(`the real z2jh history: published jupyterhub chart versions of every era${why}`, () => {
  it("reproduces the hard cases, every 8th published version and the rare 0.4 - 0.5 ones, by configuration alone", async () => {
    // Every published version is checked by bench/sha-history.ts (the table in docs/sha.md).
    const r = await checkPublishedHistory({
      chart: "jupyterhub",
      github: "jupyterhub/zero-to-jupyterhub-k8s",
      gitDir: Z2JH_GIT,
      index: INDEX,
      only: (v, i) => HARD.has(v) || i % 8 === 0 || eraOf(v).startsWith("chartpress 0.4"),
    });
    const wrong = r.eras.flatMap((e) => e.wrong);
    // 0.5.0 (2017-12-12) was released by the build.py of the day; its tag is not in the repository.
    expect(wrong, historyTable(r)).toEqual(["0.5.0 (no such tag)"]);
    const checked = r.eras.reduce((n, e) => n + e.total, 0);
    const exact = r.eras.reduce((n, e) => n + e.exact, 0);
    const gone = r.eras.reduce((n, e) => n + e.gone, 0);
    expect(checked).toBeGreaterThan(140);
    // Branch pushes of 2017 whose branches were deleted unmerged: their commits are not in the clone.
    expect(exact + gone + 1).toBe(checked);
    expect(gone).toBeLessThan(10);
    expect(r.eras.map((e) => e.era.split(":")[0])).toEqual(
      expect.arrayContaining(["build.py, chartpress < 0.4", "chartpress 0.4 - 0.5", "chartpress 0.6 - 1.x", "chartpress >= 2"]),
    );
  }, 1_200_000);
});
