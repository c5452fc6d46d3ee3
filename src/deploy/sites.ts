/** Every configured site's health, asked in parallel. */

import type { Services } from "../services.ts";
import { type SiteHealth, siteHealth } from "./health.ts";

export function allSiteHealth(s: Pick<Services, "config">, fetchImpl?: typeof fetch): Promise<SiteHealth[]> {
  const timeoutMs = s.config.check.healthTimeoutSeconds * 1000;
  return Promise.all(s.config.sites.map((site) => siteHealth(site, { timeoutMs, ...(fetchImpl ? { fetch: fetchImpl } : {}) })));
}
