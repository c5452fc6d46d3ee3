import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import type { z } from "zod";
import { interpolate } from "./interpolate.ts";
import { type Config, configSchema, SECRET_KEYS } from "./schema.ts";
import { collectSecrets } from "./secrets.ts";

export const DEFAULT_CONFIG = resolve(dirname(fileURLToPath(import.meta.url)), "../../config/default.yaml");

/** A config that cannot be used, with every problem named by file, key path and expectation. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface LoadedConfig {
  file: string;
  config: Config;
  /** Secret values found in the config, for redaction. */
  secrets: Set<string>;
  /** The shipped defaults the file was laid over (keys it leaves out come from there), if any. */
  defaults?: string;
}

/** Which file to read: an explicit path, then BINDERBOT_CONFIG, then config/default.yaml. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit || env.BINDERBOT_CONFIG || DEFAULT_CONFIG);
}

/**
 * Reads a config. A team's file holds only what differs: it is laid over the shipped
 * config/default.yaml (mybinder.org's), so the keys it leaves out (`charts`, `deploy`, …) take the
 * shipped values. Mappings merge key by key; a list or a value replaces the default's.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, defaults = DEFAULT_CONFIG): LoadedConfig {
  const text = readConfigFile(file);
  if (resolve(file) === resolve(defaults)) return parseConfig(text, file, env);
  const base = yamlOf(readConfigFile(defaults), defaults);
  return { ...parseConfig(text, file, env, { base }), defaults };
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (code ?? String(err));
    throw new ConfigError(file, [`cannot read the file: ${why}`]);
  }
}

/** `base` (the shipped defaults, parsed YAML) is what the file's keys are laid over. */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  opts: { base?: Record<string, unknown> } = {},
): LoadedConfig {
  let raw = yamlOf(text, file);
  if (opts.base) raw = overlay(opts.base, raw) as Record<string, unknown>;

  // Every problem at once: unset variables, schema errors and the checks across keys together, so
  // one run of check-config lists all that must be fixed (every unset secret of every adapter too).
  const interp = interpolate(raw, env);
  const unsetAt = new Map(interp.unset.map((u) => [formatPath(u.path), u.name]));
  const say = (path: readonly PropertyKey[], message: string) => {
    const name = unsetAt.get(formatPath(path));
    return name ? `${formatPath(path)}: environment variable ${name} is not set (a value is required here)` : message;
  };
  const envProblems = interp.errors.map((e) => `${formatPath(e.path)}: ${e.message}`);
  const parsed = configSchema.safeParse(interp.value, { reportInput: true });
  const schemaProblems = parsed.success ? [] : parsed.error.issues.map((i) => say(i.path, formatIssue(i)));
  const reported = new Set(parsed.success ? [] : parsed.error.issues.map((i) => formatPath(i.path)));
  const crossProblems = semanticChecks((parsed.success ? parsed.data : interp.value) as Loose)
    .filter((p) => !reported.has(formatPath(p.path)))
    .map((p) => say(p.path, `${formatPath(p.path)}: ${p.message}`));
  const problems = [...envProblems, ...schemaProblems, ...crossProblems];
  if (!parsed.success || problems.length) throw new ConfigError(file, problems);
  const config = parsed.data;
  return { file, config, secrets: collectSecrets(config) };
}

function yamlOf(text: string, file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    const e = err as { mark?: { line: number; column: number }; reason?: string; message: string };
    const where = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}` : "";
    throw new ConfigError(file, [`not valid YAML${where ? ` at ${where}` : ""}: ${e.reason ?? e.message}`]);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(file, ["(top level): expected a mapping of keys (prefix:, charts:, …)"]);
  return raw as Record<string, unknown>;
}

/** `over` laid on `base`: mappings merge key by key, anything else (a list, a value) replaces. */
function overlay(base: unknown, over: unknown): unknown {
  if (!isMapping(base) || !isMapping(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? overlay(base[k], v) : v;
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The config as far as it could be read: the checks across keys run on it even when the schema failed. */
type Loose = {
  charts?: Array<{ name?: unknown }> | unknown;
  http?: { port?: unknown };
  adapters?: {
    slack?: { enabled?: unknown; mode?: unknown; appToken?: unknown; signingSecret?: unknown };
    matrix?: { enabled?: unknown; accessToken?: unknown; password?: unknown };
  };
};

function semanticChecks(c: Loose): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const seen = new Set<unknown>();
  if (Array.isArray(c.charts))
    c.charts.forEach((ch: { name?: unknown } | null, i) => {
      if (typeof ch?.name !== "string") return;
      if (seen.has(ch.name)) out.push({ path: ["charts", i, "name"], message: `'${ch.name}' is configured twice` });
      seen.add(ch.name);
    });
  const s = isMapping(c.adapters?.slack) ? c.adapters.slack : undefined;
  const slackOn = s !== undefined && s.enabled !== false;
  const mode = s?.mode ?? "socket";
  if (slackOn && mode === "socket" && !s.appToken)
    out.push({ path: ["adapters", "slack", "appToken"], message: "expected an app-level token (xapp-…) for mode: socket" });
  if (slackOn && mode === "http" && !s.signingSecret)
    out.push({ path: ["adapters", "slack", "signingSecret"], message: "expected the signing secret for mode: http" });
  if (slackOn && mode === "http" && (c.http?.port ?? 0) === 0)
    out.push({
      path: ["http", "port"],
      message: "expected a port for adapters.slack mode: http (Slack posts events to /slack/events)",
    });
  const m = isMapping(c.adapters?.matrix) ? c.adapters.matrix : undefined;
  if (m && m.enabled !== false && !m.accessToken && !m.password)
    out.push({ path: ["adapters", "matrix", "accessToken"], message: "set accessToken (or password) for the bot account" });
  return out;
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

export function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return `${where}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    case "invalid_type":
      return `${where}: expected ${issue.expected}${issue.input === undefined ? " (missing)" : `, got ${describe(issue.input, isSecretPath(issue.path))}`}`;
    case "invalid_value":
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `${where}: ${issue.message.replace(/^Invalid (string|input): /, "")}`;
  }
}

function isSecretPath(path: readonly PropertyKey[]): boolean {
  const last = path.at(-1);
  return typeof last === "string" && SECRET_KEYS.has(last);
}

function describe(v: unknown, secret: boolean): string {
  if (v === null) return "null";
  if (secret) return Array.isArray(v) ? "a list" : typeof v;
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 27)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}
