import type { FakeChartEntry } from "../fakes/index-server.ts";
import { CHARTPRESS } from "./fixtures.ts";
import type { TestRepo } from "./git.ts";

/**
 * A binderhub-like repository: a first chart commit (published before the test starts) and PR
 * #1887 merged with GitHub's merge button, whose chart commit is the PR's last commit.
 */
export function prRepo(repo: TestRepo): { base: string; pr: string; merge: string; existing: FakeChartEntry; published: string } {
  repo.clock = Date.parse("2024-09-01T10:00:00Z") / 1000;
  const base = repo.commit("chart", {
    "helm-chart/chartpress.yaml": CHARTPRESS,
    "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.0.1\n",
    "helm-chart/images/binderhub/Dockerfile": "FROM x\n",
    "binderhub/app.py": "1\n",
    ".github/workflows/publish.yml": "steps:\n  - run: pip install chartpress>=2.1\n",
  });
  repo.branch("faster");
  const pr = repo.commit("make it faster", { "binderhub/app.py": "2\n" });
  repo.checkout("main");
  const merge = repo.merge("faster", "Merge pull request #1887 from someone/faster\n\nMake the builder faster");
  const v = (sha: string) => `1.0.0-0.dev.git.${repo.git("rev-list", "--count", sha)}.h${sha.slice(0, 8)}`;
  return {
    base,
    pr,
    merge,
    existing: { version: v(base), created: "2024-09-01T10:01:00Z" },
    published: v(pr),
  };
}

/** Occurrences of `needle` in `text`. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/**
 * A `binderbot run` config with the one chart and the index polled every second (node-cron's shortest): `store`,
 * `dataDir`, the fakes' URLs, the room subscribed to charts, and `extra` lines (adapters, more notify keys).
 */
export function notifyRunYaml(o: {
  store: string;
  dataDir: string;
  githubUrl: string;
  repoPath: string;
  indexUrl: string;
  room: string;
  top?: string[];
  notify?: string[];
}): string {
  return [
    `store: ${o.store}`,
    `dataDir: ${o.dataDir}`,
    ...(o.top ?? []),
    'mirrors: { fetchCron: "" }',
    `github: { apiUrl: ${o.githubUrl} }`,
    "charts:",
    "  - name: binderhub",
    "    github: jupyterhub/binderhub",
    `    git: ${o.repoPath}`,
    `    index: ${o.indexUrl}`,
    "deploy: { github: jupyterhub/mybinder.org-deploy }",
    "notify:",
    `  rooms: { "${o.room}": [charts] }`,
    '  schedules: { index: "* * * * * *", deploys: "", behind: "" }',
    ...(o.notify ?? []),
    "",
  ].join("\n");
}
