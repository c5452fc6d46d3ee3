import { escapeRe } from "../core/regex.ts";
import { SECRET_KEYS } from "./schema.ts";

/** Every secret value in a config: values under secret keys, and passwords inside URLs. */
export function collectSecrets(value: unknown, out = new Set<string>()): Set<string> {
  const visit = (v: unknown, key: string | null): void => {
    if (typeof v === "string") {
      if (key !== null && SECRET_KEYS.has(key) && v.length >= 4) out.add(v);
      const pw = urlPassword(v);
      if (pw && pw.length >= 3) out.add(pw);
    } else if (Array.isArray(v)) for (const x of v) visit(x, key);
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(value, null);
  return out;
}

function urlPassword(s: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:([^@/\s]+)@/i.exec(s);
  return m ? decodeURIComponent(m[1] as string) : null;
}

/** A function that replaces every known secret in a string with `***`. */
export function redactor(secrets: Iterable<string>): (text: string) => string {
  const list = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  const re = new RegExp(list.map(escapeRe).join("|"), "g");
  return (t) => t.replace(re, "***");
}

/** A copy of the config with secret values masked, for `check-config` and logs. */
export function masked(value: unknown): unknown {
  const redact = redactor(collectSecrets(value));
  const walk = (v: unknown, key: string | null): unknown => {
    if (typeof v === "string") return key !== null && SECRET_KEYS.has(key) ? "***" : redact(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value, null);
}
