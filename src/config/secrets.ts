import { escapeRe } from "../core/regex.ts";
import { SECRET_KEYS } from "./schema.ts";

/** Every secret value in a config: values under secret keys, and passwords inside URLs. */
export function collectSecrets(value: unknown, out = new Set<string>()): Set<string> {
  const visit = (v: unknown, key: string | null): void => {
    if (typeof v === "string") {
      if (key !== null && SECRET_KEYS.has(key) && v.length >= 4) out.add(v);
      for (const pw of urlPasswords(v)) if (pw.length >= 3) out.add(pw);
    } else if (Array.isArray(v)) for (const x of v) visit(x, key);
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(value, null);
  return out;
}

/** `scheme://user:PASSWORD@`: the password as written (maybe percent-encoded). */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)([^@/\s]+)@/i;

/** The password of a URL as written and decoded (a malformed %-escape is kept as written). */
function urlPasswords(s: string): string[] {
  const written = URL_PASSWORD.exec(s)?.[2];
  if (!written) return [];
  let decoded = written;
  try {
    decoded = decodeURIComponent(written);
  } catch {}
  return decoded === written ? [written] : [written, decoded];
}

/**
 * Every way a secret may be written where it leaks: as is, percent-encoded (in a URL, a form),
 * base64 (with and without its padding) and base64url, and escaped inside a JSON
 * string (a log line). A secret inside a larger base64 text (an HTTP Basic header of user:password)
 * is not recognisable and is not covered.
 */
function secretForms(secret: string): string[] {
  const b64 = Buffer.from(secret, "utf8");
  const forms = [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
    b64.toString("base64"),
    b64.toString("base64").replace(/=+$/, ""),
    b64.toString("base64url"),
    JSON.stringify(secret).slice(1, -1),
  ];
  return [...new Set(forms)];
}

/** A function that replaces every known secret, in each form it may be written in, with `***`. */
export function redactor(secrets: Iterable<string>): (text: string) => string {
  const list = [...new Set([...secrets].filter((s) => s.length > 0).flatMap(secretForms))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  const re = new RegExp(list.map(escapeRe).join("|"), "g");
  return (t) => t.replace(re, "***");
}

/** A copy of the config with secret values masked, for `check-config` and logs. */
export function masked(value: unknown): unknown {
  const redact = redactor(collectSecrets(value));
  const walk = (v: unknown, key: string | null): unknown => {
    // A URL's password is masked whatever it is, even one no secret key names.
    if (typeof v === "string") return key !== null && SECRET_KEYS.has(key) ? "***" : redact(v).replace(URL_PASSWORD, "$1***@");
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value, null);
}
