/** The post-deploy check: each site's /health, then a test launch through its build API. */

import type { SiteConfig } from "../config/schema.ts";
import type { Services } from "../services.ts";
import { type SiteHealth, siteHealth } from "./health.ts";
import { type LaunchEvent, type LaunchResult, testLaunch } from "./launch.ts";

export interface SiteCheck {
  site: string;
  url: string;
  health: SiteHealth;
  /** null: the site is not configured to launch (launch: false). */
  launch: LaunchResult | null;
  /** Health ok (or unknown-but-launching-fine is not ok) and the launch reached ready. */
  ok: boolean;
  /** When it was checked (ISO, the services' clock). */
  at: string;
}

/** What the checklist reads back: the last check of each site. */
export const lastCheckKey = (site: string) => `deploy:check:${site}`;

export interface CheckProgress {
  site: string;
  stage: "health" | "launch";
  health?: SiteHealth;
  event?: LaunchEvent;
}

type Deps = Pick<Services, "config" | "store" | "now">;

export interface CheckOptions {
  onProgress?: (p: CheckProgress) => void | Promise<void>;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Checks one site and records the result for the checklist. */
export async function checkSite(s: Deps, site: SiteConfig, opts: CheckOptions = {}): Promise<SiteCheck> {
  const c = s.config.check;
  const health = await siteHealth(site, {
    timeoutMs: c.healthTimeoutSeconds * 1000,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  await opts.onProgress?.({ site: site.name, stage: "health", health });
  let launch: LaunchResult | null = null;
  if (site.launch) {
    launch = await testLaunch(
      site,
      { repo: c.repo, ref: c.ref },
      {
        timeoutMs: c.timeoutSeconds * 1000,
        onPhase: (event) => opts.onProgress?.({ site: site.name, stage: "launch", event }),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
  }
  const result: SiteCheck = {
    site: site.name,
    url: site.url,
    health,
    launch,
    ok: health.ok === true && (launch === null || launch.ok),
    at: s.now().toISOString(),
  };
  await s.store.set(lastCheckKey(site.name), result);
  return result;
}
