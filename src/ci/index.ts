import type { Octokit } from "@octokit/rest";
import type { Config } from "../config/schema.ts";
import { GitHubActionsProvider, githubFile, githubPull } from "./github-actions.ts";
import type { CiProvider } from "./provider.ts";
import { TravisProvider } from "./travis.ts";

export type { CiProvider } from "./provider.ts";

/** The provider `deploy.ci` names; the Octokit is made only when first needed. */
export function createCiProvider(config: Config, octokit: () => Octokit, opts: { fetchImpl?: typeof fetch } = {}): CiProvider {
  const d = config.deploy;
  if (d.ci === "travis") {
    return new TravisProvider({
      apiUrl: d.travisApiUrl,
      repo: d.github,
      token: d.travis?.token,
      webUrl: d.travis?.webUrl,
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
      pull: (n) => githubPull(octokit(), d.github, n),
      file: (path, ref) => githubFile(octokit(), d.github, path, ref),
    });
  }
  return new GitHubActionsProvider(octokit(), d.github, opts);
}
