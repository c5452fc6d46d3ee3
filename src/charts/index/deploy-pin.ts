import yaml from "js-yaml";
import { errorLine } from "../../core/one-line.ts";
import type { Octokit } from "../../github/client.ts";
import { githubErrorLine, isNotModified } from "../../github/client.ts";

/** Where the deploy repository pins a chart, and what it pins now. */
export interface Pin {
  /** owner/name of the deploy repository. */
  repo: string;
  /** e.g. mybinder/Chart.yaml (mybinder/requirements.yaml before 2020-12: history only). */
  file: string;
  branch: string;
  chart: string;
  /** The pinned version, or null when the file has no dependency of that name. */
  version: string | null;
}

export interface PinSource {
  repo: string;
  file: string;
  branch: string;
}

interface Cached {
  etag: string | null;
  text: string;
  /** When GitHub last confirmed it (ms). */
  at: number;
}

/** How long a read pin is answered without asking GitHub again. */
const PIN_MAX_AGE_MS = 60_000;

/**
 * Reads `dependencies[name=<chart>].version` from the deploy repository's chart file on its default
 * branch through the GitHub contents API. A pin read in the last minute is answered from memory;
 * concurrent reads share one request; an older copy is confirmed by a conditional request (a 304).
 */
export class PinReader {
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly octokit: () => Octokit,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = PIN_MAX_AGE_MS,
  ) {}

  async read(src: PinSource, chart: string): Promise<Pin> {
    const text = await this.#text(src);
    return { repo: src.repo, file: src.file, branch: src.branch, chart, version: pinnedVersion(text, chart) };
  }

  #text(src: PinSource): Promise<string> {
    const key = `${src.repo}\0${src.branch}\0${src.file}`;
    const cached = this.#cache.get(key);
    if (cached && this.now() - cached.at < this.maxAgeMs) return Promise.resolve(cached.text);
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = this.#fetch(src, key, cached).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #fetch(src: PinSource, key: string, cached: Cached | undefined): Promise<string> {
    const [owner, repo] = src.repo.split("/") as [string, string];
    try {
      const res = await this.octokit().repos.getContent({
        owner,
        repo,
        path: src.file,
        ref: src.branch,
        ...(cached?.etag ? { headers: { "if-none-match": cached.etag } } : {}),
      });
      const data = res.data as { type?: string; content?: string; encoding?: string };
      if (Array.isArray(res.data) || data.type !== "file" || typeof data.content !== "string") {
        throw new PinError(`${src.file} in ${src.repo} is not a file`);
      }
      const text = data.encoding === "base64" ? Buffer.from(data.content, "base64").toString("utf8") : String(data.content);
      this.#cache.set(key, { etag: (res.headers.etag as string | undefined) ?? null, text, at: this.now() });
      return text;
    } catch (e) {
      if (isNotModified(e) && cached) {
        cached.at = this.now();
        return cached.text;
      }
      if (e instanceof PinError) throw e;
      throw new PinError(githubErrorLine(e, `${src.file} in ${src.repo}@${src.branch}`));
    }
  }
}

export class PinError extends Error {}

/** `dependencies[name=<chart>].version` of a Chart.yaml / requirements.yaml text; null when absent. */
export function pinnedVersion(text: string, chart: string): string | null {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new PinError(`the deploy chart file is not valid YAML (${errorLine(e)})`);
  }
  const deps = (doc as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(deps)) return null;
  const d = deps.find((x) => (x as { name?: unknown })?.name === chart) as { version?: unknown } | undefined;
  if (!d || d.version === undefined || d.version === null) return null;
  return String(d.version);
}

/** The line to write under the chart's dependency, quoted as mybinder.org-deploy does. */
export function pinLine(version: string): string {
  return `version: "${version}"`;
}
