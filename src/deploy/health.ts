/** A BinderHub site's `/health`: `{ ok, checks: [{ service, ok, … }] }` (binderhub/health.py). */

import type { SiteConfig } from "../config/schema.ts";
import { networkCause } from "../core/network.ts";
import { timedFetch } from "../source-timing.ts";

export interface HealthCheck {
  service: string;
  ok: boolean;
  /** BinderHub marks soft checks (the pod quota) that do not make the site unhealthy. */
  ignored: boolean;
}

export interface SiteHealth {
  site: string;
  url: string;
  /** null: the site could not be asked (see error). */
  ok: boolean | null;
  /** HTTP status of /health (BinderHub answers 503 when unhealthy), null when none came. */
  status: number | null;
  checks: HealthCheck[];
  /** Why the health is unknown or what was wrong with the answer, one line. */
  error: string | null;
}

/** The failing checks that count (soft ones are left out). */
function failingChecks(h: SiteHealth): HealthCheck[] {
  return h.checks.filter((c) => !c.ok && !c.ignored);
}

/** `https://mybinder.org/` + `health` → `https://mybinder.org/health`, whatever the trailing slash. */
export function siteUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

function readChecks(raw: unknown): HealthCheck[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((c): c is Record<string, unknown> => typeof c === "object" && c !== null)
    .map((c) => ({ service: String(c.service ?? "?"), ok: c.ok === true, ignored: c._ignore_failure === true }));
}

/** Asks one site's /health; never rejects (an unreachable site is `ok: null` with the reason). */
export async function siteHealth(
  site: Pick<SiteConfig, "name" | "url">,
  opts: { timeoutMs: number; fetch?: typeof fetch },
): Promise<SiteHealth> {
  const doFetch = timedFetch("binderhub", opts.fetch ?? fetch);
  const out: SiteHealth = { site: site.name, url: site.url, ok: null, status: null, checks: [], error: null };
  try {
    const res = await doFetch(siteUrl(site.url, "health"), {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    out.status = res.status;
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      out.error = `/health answered HTTP ${res.status} without JSON`;
      return out;
    }
    const b = body as { ok?: unknown; checks?: unknown };
    if (typeof b.ok !== "boolean") {
      out.error = `/health answered HTTP ${res.status} without an "ok" field`;
      return out;
    }
    out.ok = b.ok;
    out.checks = readChecks(b.checks);
    return out;
  } catch (e) {
    out.error = networkCause(e);
    return out;
  }
}

/** "ok", "unhealthy: Docker registry, Pod quota", or "unknown (ECONNREFUSED …)". */
export function healthLine(h: SiteHealth): string {
  if (h.ok === null) return `unknown (${h.error ?? "no answer"})`;
  if (h.ok) return "ok";
  const failing = failingChecks(h).map((c) => c.service);
  return failing.length ? `unhealthy: ${failing.join(", ")} failing` : `unhealthy (HTTP ${h.status})`;
}
