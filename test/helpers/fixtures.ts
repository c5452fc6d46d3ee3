import type { TestRepo } from "./git.ts";

/** helm-chart/chartpress.yaml of a current binderhub (chartpress ≥ 2: baseVersion, one image). */
export const CHARTPRESS = `charts:
  - name: binderhub
    baseVersion: 1.0.0-0.dev
    images:
      binderhub:
        contextPath: ..
        dockerfilePath: images/binderhub/Dockerfile
        rebuildOnContextPathChanges: false
        paths: [../binderhub]
`;

/** helm-chart/chartpress.yaml of binderhub in January 2018 (vendored build.py era). */
const CHARTPRESS_2018 =
  "charts:\n  - name: binderhub\n    imagePrefix: jupyterhub/k8s-\n    paths:\n      - ../setup.py\n      - ../binderhub\n    images:\n      binderhub:\n        contextPath: ..\n        dockerfilePath: images/binderhub/Dockerfile\n";

/**
 * The 2018-01-04 incident topology on `repo`'s main branch, from 2018-01-04T13:00Z: the base
 * (merge of #372, with chartpress.yaml and the vendored build.py), PR #395's commit on branch
 * rm-svg-fonts (441f5ea in the real history, changing binderhub/static/fonts.css) and its merge
 * (4e3bafb), whose chart paths equal the PR commit's. main stays checked out; tests add their own
 * commits after it.
 */
export function incident2018(repo: TestRepo): { base: string; pr: string; merge: string } {
  repo.clock = Date.parse("2018-01-04T13:00:00Z") / 1000;
  const base = repo.commit("Merge pull request #372 from yuvipanda/introduce-npm", {
    "helm-chart/chartpress.yaml": CHARTPRESS_2018,
    "helm-chart/build.py": "#!/usr/bin/env python3\n",
    "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.1.0-dev\n",
    "helm-chart/images/binderhub/Dockerfile": "FROM python:3.6\n",
    "binderhub/static/fonts.css": "a\n",
    "setup.py": "setup()\n",
    "README.md": "hi\n",
  });
  repo.branch("rm-svg-fonts");
  const pr = repo.commit("remove unused formats for ClearSans webfont", { "binderhub/static/fonts.css": "b\n" });
  repo.checkout("main");
  const merge = repo.merge("rm-svg-fonts", "Merge pull request #395 from minrk/rm-svg-fonts");
  return { base, pr, merge };
}
