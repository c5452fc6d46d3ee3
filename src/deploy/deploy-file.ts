/** The deploy repository's chart file as text, with the blob sha a contents update needs. */

import type { Octokit } from "../github/client.ts";
import { githubErrorLine } from "../github/client.ts";

export interface DeployFile {
  repo: string;
  path: string;
  ref: string;
  text: string;
  /** Blob sha (GitHub's contents `sha`), required to update the file. */
  sha: string;
}

export class DeployFileError extends Error {}

export function splitRepo(full: string): { owner: string; repo: string } {
  const [owner, repo] = full.split("/") as [string, string];
  return { owner, repo };
}

/** Reads `path` at `ref` (a branch) of `repo` through the contents API; throws DeployFileError with one line. */
export async function readDeployFile(octokit: Octokit, repo: string, path: string, ref: string): Promise<DeployFile> {
  try {
    const res = await octokit.repos.getContent({ ...splitRepo(repo), path, ref });
    const d = res.data as { type?: string; content?: string; encoding?: string; sha?: string };
    if (Array.isArray(res.data) || d.type !== "file" || typeof d.content !== "string" || !d.sha) {
      throw new DeployFileError(`${path} in ${repo} is not a file`);
    }
    const text = d.encoding === "base64" ? Buffer.from(d.content, "base64").toString("utf8") : d.content;
    return { repo, path, ref, text, sha: d.sha };
  } catch (e) {
    if (e instanceof DeployFileError) throw e;
    throw new DeployFileError(githubErrorLine(e, `${path} in ${repo}@${ref}`));
  }
}
