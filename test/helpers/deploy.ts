import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "../../src/app.ts";
import { type FakeBinderHub, READY_SCRIPT, startFakeBinderHub } from "../fakes/binderhub.ts";
import { type FakeGitHub, startFakeGitHub } from "../fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "../fakes/index-server.ts";
import { chartBotYaml, testApp } from "./app.ts";
import { CHARTPRESS } from "./fixtures.ts";
import { TestRepo } from "./git.ts";

export const DEPLOY = "jupyterhub/mybinder.org-deploy";
export const CHART_FILE = "mybinder/Chart.yaml";
export const LAUNCH_SPEC = "gh/willingc/ThinkDSP/HEAD";

/** mybinder.org-deploy's chart file as people write it: comments, quotes, a second dependency. */
export function deployChartYaml(pinned: string): string {
  return `# The mybinder.org chart: BinderHub plus the cluster's extras.
apiVersion: v2
name: mybinder
version: 0.1.0
dependencies:
  # BinderHub; bump with \`!binder bump\`
  - name: binderhub
    version: "${pinned}"   # keep the quotes
    repository: https://jupyterhub.github.io/helm-chart

  - name: ingress-nginx
    version: 4.11.3
    repository: https://kubernetes.github.io/ingress-nginx
`;
}

/**
 * A deploy world on 127.0.0.1: the binderhub chart repository with a history of merged PRs, its
 * chart index, a fake GitHub holding the deploy repository (its pinned chart file and CI runs), and
 * two fake BinderHub sites (staging, prod).
 */
export interface DeployWorld {
  repo: TestRepo;
  index: IndexServer;
  github: FakeGitHub;
  staging: FakeBinderHub;
  prod: FakeBinderHub;
  dataDir: string;
  /** Chart versions by name: v1 (pinned), v2 (#101), v3 (#102), v4 (#103, newest published), v5 (#104, unpublished). */
  v: Record<"v1" | "v2" | "v3" | "v4" | "v5", string>;
  /** Chart commits by the same names. */
  c: Record<"v1" | "v2" | "v3" | "v4" | "v5", string>;
  /** `extra`: top-level YAML appended; `deployExtra`: indented lines added under `deploy:`. */
  yaml(extra?: string, deployExtra?: string): string;
  app(extra?: string, opts?: { now?: () => Date; deployExtra?: string }): Promise<App>;
  close(): Promise<void>;
}

export async function deployWorld(): Promise<DeployWorld> {
  const repo = TestRepo.create();
  repo.clock = Date.parse("2024-09-01T10:00:00Z") / 1000;
  const c = {} as DeployWorld["c"];
  c.v1 = repo.commit("chart", {
    "helm-chart/chartpress.yaml": CHARTPRESS,
    "helm-chart/binderhub/Chart.yaml": "name: binderhub\nversion: 0.0.1\n",
    "helm-chart/images/binderhub/Dockerfile": "FROM x\n",
    "binderhub/app.py": "1\n",
    ".github/workflows/publish.yml": "steps:\n  - run: pip install chartpress>=2.1\n",
  });
  const mergePr = (n: number, title: string, file: string): string => {
    repo.branch(`pr-${n}`);
    const head = repo.commit(title, { [file]: `${n}\n` });
    repo.checkout("main");
    repo.merge(`pr-${n}`, `Merge pull request #${n} from dev/pr-${n}\n\n${title}`);
    return head;
  };
  c.v2 = mergePr(101, "Use a faster builder", "binderhub/builder.py");
  c.v3 = repo.commit("Fix the health check (#102)", { "binderhub/health.py": "102\n" });
  repo.commit("Docs only (#99)", { "docs/index.md": "docs\n" }); // outside the chart paths, still between
  c.v4 = mergePr(103, "Quota per repository", "binderhub/quota.py");
  c.v5 = mergePr(104, "Not published yet", "binderhub/late.py");
  const version = (sha: string) => `1.0.0-0.dev.git.${repo.git("rev-list", "--count", sha)}.h${sha.slice(0, 8)}`;
  const v = {
    v1: version(c.v1),
    v2: version(c.v2),
    v3: version(c.v3),
    v4: version(c.v4),
    v5: version(c.v5),
  };
  const index = await startIndexServer({
    body: indexYaml({
      binderhub: [
        { version: v.v1, created: "2024-09-01T10:05:00Z" },
        { version: v.v2, created: "2024-09-01T10:15:00Z" },
        { version: v.v3, created: "2024-09-01T10:25:00Z" },
        { version: v.v4, created: "2024-09-01T10:35:00Z" },
      ],
    }),
  });
  const github = await startFakeGitHub();
  github.setRepo(DEPLOY);
  github.setFile(DEPLOY, CHART_FILE, deployChartYaml(v.v1), "main");
  const staging = await startFakeBinderHub();
  const prod = await startFakeBinderHub();
  staging.script(LAUNCH_SPEC, READY_SCRIPT);
  prod.script(LAUNCH_SPEC, READY_SCRIPT);
  const dataDir = mkdtempSync(join(tmpdir(), "binderbot-deploy-"));
  const apps: App[] = [];
  const world: DeployWorld = {
    repo,
    index,
    github,
    staging,
    prod,
    dataDir,
    v,
    c,
    yaml(extra = "", deployExtra = "") {
      const base = chartBotYaml({
        dataDir,
        githubUrl: github.url,
        repoPath: repo.path,
        indexUrl: index.url,
        ...(deployExtra ? { extra: deployExtra } : {}),
      });
      return `${base}sites:\n  - { name: staging, url: "${staging.url}" }\n  - { name: prod, url: "${prod.url}/" }\n${extra}`;
    },
    async app(extra = "", opts = {}) {
      const { deployExtra, ...rest } = opts;
      const app = await testApp(world.yaml(extra, deployExtra), rest);
      apps.push(app);
      return app;
    },
    async close() {
      for (const a of apps) await a.close();
      await Promise.all([index.close(), github.close(), staging.close(), prod.close()]);
      rmSync(dataDir, { recursive: true, force: true });
      repo.remove();
    },
  };
  return world;
}
