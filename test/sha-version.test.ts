import { describe, expect, it } from "vitest";
import { prFromSubject } from "../src/charts/answer/assemble.ts";
import {
  chartpressPaths,
  generationOf,
  parseChartpressYaml,
  pipSpecToRange,
  resolveChartpress,
  toRepoPaths,
} from "../src/charts/rule/chartpress.ts";
import { chartVersion, type VersionInputs } from "../src/charts/rule/version.ts";

// Inputs and outputs from the real binderhub history (../shared/data/binderhub-chart-versions.tsv).
const sha = (prefix: string) => prefix.padEnd(40, "0");

/** chartVersion for the chart commit `prefix` (padded to a full SHA) under chartpress `generation`. */
function versionOf(
  generation: VersionInputs["generation"],
  prefix: string,
  rest: Omit<VersionInputs, "generation" | "chartCommit">,
): string {
  return chartVersion({ generation, chartCommit: sha(prefix), ...rest });
}

describe("chartVersion: every format chartpress produced", () => {
  it("generation 0 (vendored build.py, < 0.4): Chart.yaml version before '-' + %h", () => {
    expect(versionOf(0, "441f5ea545", { hashLength: 7, count: 0, describe: null, chartYamlVersion: "0.1.0-dev" })).toBe(
      "0.1.0-441f5ea",
    );
  });
  it("generation 1 (0.4): tag-NNN.sha from git describe; exactly on a tag → the tag", () => {
    expect(versionOf(1, "7e32ac0ee2", { hashLength: 7, count: 1000, describe: { tag: "0.1.0", since: 456 } })).toBe(
      "0.1.0-456.7e32ac0",
    );
    expect(versionOf(1, "2a7145f40d", { hashLength: 7, count: 1000, describe: { tag: "0.2.0", since: 0 } })).toBe("0.2.0");
  });
  it("generation 2 (0.5): same format, zero-padded count", () => {
    expect(versionOf(2, "9ba1fc39eb", { hashLength: 7, count: 0, describe: { tag: "0.2.0", since: 28 } })).toBe(
      "0.2.0-028.9ba1fc3",
    );
  });
  it("generations 3-4 (0.6 – 1.x): n/h prefixes; --long keeps the suffix on a tag; a pre-release tag uses '.'", () => {
    expect(versionOf(3, "b369d46913", { hashLength: 7, count: 0, describe: { tag: "0.2.0", since: 75 } })).toBe(
      "0.2.0-n075.hb369d46",
    );
    expect(versionOf(4, "687657bb0a", { hashLength: 7, count: 0, describe: { tag: "0.2.0", since: 432 } })).toBe(
      "0.2.0-n432.h687657b",
    );
    expect(versionOf(4, "abcdef1234", { hashLength: 7, count: 0, describe: { tag: "0.3.0", since: 0 }, long: true })).toBe(
      "0.3.0-n000.habcdef1",
    );
    expect(versionOf(4, "abcdef1234", { hashLength: 7, count: 0, describe: { tag: "1.0.0-beta.1", since: 5 } })).toBe(
      "1.0.0-beta.1.n005.habcdef1",
    );
    expect(versionOf(4, "abcdef1234", { hashLength: 7, count: 12, describe: null })).toBe("0.0.1-n012.habcdef1");
  });
  it("generation 5 (>= 2.0): baseVersion or the tag, the full rev-list count, 7 or 8 hex digits", () => {
    expect(versionOf(5, "3450e523df", { hashLength: 7, count: 2752, describe: { tag: "0.2.0", since: 1020 } })).toBe(
      "0.2.0-0.dev.git.2752.h3450e52",
    );
    expect(
      versionOf(5, "951750e5f4", {
        hashLength: 7,
        count: 2797,
        describe: { tag: "0.2.0", since: 1065 },
        baseVersion: "1.0.0-0.dev",
      }),
    ).toBe("1.0.0-0.dev.git.2797.h951750e");
    expect(
      versionOf(5, "ba24eb2a38", {
        hashLength: 8,
        count: 3506,
        describe: { tag: "0.2.0", since: 1774 },
        baseVersion: "1.0.0-0.dev",
      }),
    ).toBe("1.0.0-0.dev.git.3506.hba24eb2a");
    expect(versionOf(5, "aaaaaaaaaa", { hashLength: 8, count: 10, describe: null })).toBe("0.0.1-0.dev.git.10.haaaaaaaa");
    // exactly on a tag: the tag, not baseVersion; with --long the tag gets a -0.dev suffix
    expect(
      versionOf(5, "bbbbbbbbbb", { hashLength: 8, count: 50, describe: { tag: "1.2.0", since: 0 }, baseVersion: "1.0.0-0.dev" }),
    ).toBe("1.2.0");
    expect(
      versionOf(5, "bbbbbbbbbb", {
        hashLength: 8,
        count: 50,
        describe: { tag: "1.2.0", since: 0 },
        baseVersion: "1.0.0-0.dev",
        long: true,
      }),
    ).toBe("1.2.0-0.dev.git.50.hbbbbbbbb");
  });
});

describe("which chartpress, and which paths", () => {
  it("resolves pins at the build date", () => {
    expect(pipSpecToRange("==0.6.*")).toBe("0.6.x");
    expect(pipSpecToRange(">=0.4.3,<0.5")).toBe(">=0.4.3 <0.5");
    // binderhub pinned >=1.2 in 2021; it resolved to 2.0 from 2022-09 (01450cea65 built with 2.0)
    expect(resolveChartpress(">=1.2", "2022-06-14")).toBe("1.3.0");
    expect(resolveChartpress(">=1.2", "2022-09-04")).toBe("2.0.0");
    expect(generationOf("2.0.0")).toBe(5);
    expect(resolveChartpress(null, "2020-11-13")).toBe("0.7.0");
    expect(generationOf("0.7.0")).toBe(4);
    expect(generationOf("0.3.1")).toBe(0);
  });

  it("lists the paths chartpress gave git log, per generation, relative to the repository", () => {
    const cp = parseChartpressYaml(
      "charts:\n  - name: binderhub\n    paths: [../setup.py]\n    images:\n      binderhub:\n        contextPath: ..\n        dockerfilePath: images/binderhub/Dockerfile\n        rebuildOnContextPathChanges: false\n        paths: [../binderhub]\n",
      "binderhub",
    );
    expect(toRepoPaths("helm-chart", chartpressPaths(0, cp))).toEqual(["helm-chart", "setup.py"]);
    // 0.5/0.6 ignore rebuildOnContextPathChanges: the context '..' is the whole repository
    expect(toRepoPaths("helm-chart", chartpressPaths(3, cp))).toContain(".");
    expect(toRepoPaths("helm-chart", chartpressPaths(4, cp))).toEqual(
      [
        "binderhub",
        "helm-chart/binderhub",
        "helm-chart/chartpress.yaml",
        "helm-chart/images/binderhub/Dockerfile",
        "setup.py",
      ].sort(),
    );
  });

  it("reads the PR number from merge subjects", () => {
    expect(prFromSubject("Merge pull request #395 from minrk/rm-svg-fonts")).toBe(395);
    expect(prFromSubject("Add a thing (#1877)")).toBe(1877);
    expect(prFromSubject("docs")).toBeNull();
  });
});
