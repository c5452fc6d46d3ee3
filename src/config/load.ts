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
}

/** Which file to read: an explicit path, then BINDERBOT_CONFIG, then config/default.yaml. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit || env.BINDERBOT_CONFIG || DEFAULT_CONFIG);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
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

  // Every problem at once: unset variables and schema errors together, so one run of check-config
  // lists all that must be fixed.
  const interp = interpolate(raw, env);
  const envProblems = interp.errors.map((e) => `${formatPath(e.path)}: ${e.message}`);
  const parsed = configSchema.safeParse(interp.value, { reportInput: true });
  if (!parsed.success) {
    const unsetAt = new Map(interp.unset.map((u) => [formatPath(u.path), u.name]));
    const schemaProblems = parsed.error.issues.map((i) => {
      const name = unsetAt.get(formatPath(i.path));
      return name ? `${formatPath(i.path)}: environment variable ${name} is not set (a value is required here)` : formatIssue(i);
    });
    throw new ConfigError(file, [...envProblems, ...schemaProblems]);
  }
  if (envProblems.length) throw new ConfigError(file, envProblems);
  const config = parsed.data;
  const problems = semanticChecks(config);
  if (problems.length) throw new ConfigError(file, problems);
  return { file, config, secrets: collectSecrets(config) };
}

function semanticChecks(c: Config): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  c.charts.forEach((ch, i) => {
    if (seen.has(ch.name)) out.push(`charts[${i}].name: '${ch.name}' is configured twice`);
    seen.add(ch.name);
  });
  const s = c.adapters.slack;
  if (s?.enabled && s.mode === "socket" && !s.appToken)
    out.push("adapters.slack.appToken: expected an app-level token (xapp-…) for mode: socket");
  if (s?.enabled && s.mode === "http" && !s.signingSecret)
    out.push("adapters.slack.signingSecret: expected the signing secret for mode: http");
  if (s?.enabled && s.mode === "http" && c.http.port === 0)
    out.push("http.port: expected a port for adapters.slack mode: http (Slack posts events to /slack/events)");
  const m = c.adapters.matrix;
  if (m?.enabled && !m.accessToken && !m.password) out.push("adapters.matrix: expected accessToken or password");
  return out;
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

function formatIssue(issue: z.core.$ZodIssue): string {
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
