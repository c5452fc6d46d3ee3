import type { Posted } from "../core/adapter.ts";
import type { CommandContext, CommandSpec } from "../core/command.ts";
import { type Block, fail, ok } from "../core/reply.ts";
import { type CheckProgress, checkSite, type SiteCheck } from "../deploy/check.ts";
import type { Services } from "../services.ts";
import { checkBlocks, progressBlocks, type SiteProgress } from "./check-reply.ts";

/**
 * `!binder check [site]`: what a person did after each deploy (look at staging, launch a known
 * repository on prod) as one command. Progress is one message edited in place while it runs.
 */
export const check: CommandSpec<Services> = {
  name: "check",
  summary: "Post-deploy check: each site's /health and a test launch through its build API",
  description:
    "For each configured site (or the one named): BinderHub's /health (ok, or the failing checks), then a test launch of the configured repository (check.repo at check.ref) through the build API, following its event stream phase by phase (waiting, fetching, building, pushing, launching, ready). Reports each phase as it comes, in one message edited in place where the platform allows it, and the total time. A launch that fails, or is not ready within check.timeoutSeconds, is reported with its last phases and messages.",
  args: [{ name: "site", type: "string", description: "a configured site (e.g. staging, prod); default: every site" }],
  examples: ["check", "check prod"],
  access: "anyone",
  sideEffects: "launches the test repository on the site (a user server BinderHub culls when idle)",
  intents: [
    {
      pattern: /^(?:is|does) (?:mybinder(?:\.org)?|binderhub|the site) (?:still )?(?:work(?:ing)?|healthy|up|launch(?:ing)?)\b/i,
      example: "is mybinder working?",
      args: () => [],
    },
  ],
  async run(ctx, { args }) {
    const all = ctx.services.config.sites;
    const name = args.site as string | undefined;
    if (all.length === 0) return fail("No sites are configured: add sites: [{name, url}] to the config.");
    const sites = name === undefined ? all : all.filter((s) => s.name === name);
    if (sites.length === 0) return fail(`There is no site '${name}' (configured: ${all.map((s) => s.name).join(", ")}).`);

    const progress = new Progress(
      ctx,
      sites.map((s) => s.name),
    );
    await progress.start();
    const results: SiteCheck[] = [];
    for (const site of sites) {
      results.push(await checkSite(ctx.services, site, { onProgress: (p) => progress.on(p) }));
    }
    await progress.end();
    const blocks: Block[] = checkBlocks(results, ctx.services.config.check);
    const data = { ok: results.every((r) => r.ok), sites: results };
    return data.ok ? ok(blocks, data) : fail(failLine(results), blocks, data);
  },
};

function failLine(results: SiteCheck[]): string {
  const bad = results.filter((r) => !r.ok).map((r) => r.site);
  return `Check failed on ${bad.join(", ")}.`;
}

/** The progress message: posted once, then edited as sites and phases come (nothing when no one would see it). */
class Progress {
  #posted: Posted | null = null;
  #chain: Promise<void> = Promise.resolve();
  readonly #state: SiteProgress[];

  constructor(
    private readonly ctx: CommandContext<Services>,
    sites: string[],
  ) {
    this.#state = sites.map((site) => ({ site, health: null, phases: [] }));
  }

  #blocks(): Block[] {
    const current = Math.max(
      0,
      this.#state.findLastIndex((s) => s.health !== null),
    );
    return progressBlocks(this.#state, current);
  }

  async start(): Promise<void> {
    if (!this.ctx.lasting) return;
    try {
      this.#posted = await this.ctx.send(ok(this.#blocks()));
    } catch (err) {
      this.ctx.log.warn({ err }, "cannot post the check's progress");
    }
  }

  on(p: CheckProgress): Promise<void> {
    const s = this.#state.find((x) => x.site === p.site);
    if (!s) return Promise.resolve();
    if (p.health) s.health = p.health;
    if (p.event) s.phases.push(p.event);
    return this.#edit();
  }

  /** Edits are chained so they land in order; a failed edit is logged and the check goes on. */
  #edit(): Promise<void> {
    const posted = this.#posted;
    if (!posted) return Promise.resolve();
    this.#chain = this.#chain.then(async () => {
      try {
        this.#posted = await this.ctx.update(this.#posted ?? posted, ok(this.#blocks()));
      } catch (err) {
        this.ctx.log.warn({ err }, "cannot update the check's progress");
      }
    });
    return this.#chain;
  }

  end(): Promise<void> {
    return this.#chain;
  }
}
