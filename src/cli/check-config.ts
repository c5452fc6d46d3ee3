import { statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import yaml from "js-yaml";
import { commands } from "../commands/index.ts";
import { ConfigError, configPath, loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { masked } from "../config/secrets.ts";
import { accessProblems } from "../core/access.ts";
import { enabledAdapters } from "./adapters.ts";
import { CHECK_CONFIG_USAGE } from "./usage.ts";
import { UsageError } from "./usage-error.ts";

/** The one file to check: FILE or --config FILE (as for run and ask); anything else is bad usage. */
function fileArg(argv: string[]): string | undefined {
  let parsed: { values: { config?: string | undefined }; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { config: { type: "string", short: "c" } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${CHECK_CONFIG_USAGE}`);
  }
  const files = [...(parsed.values.config === undefined ? [] : [parsed.values.config]), ...parsed.positionals];
  if (files.length > 1)
    throw new UsageError(`check-config checks one file, got ${files.length}: ${files.join(" ")}\n${CHECK_CONFIG_USAGE}`);
  return files[0];
}

/**
 * Each chart's `index:` is an http(s) URL, or a local file (a path or a file: URL) that exists now:
 * the bot would start with a missing one and only say so when asked.
 */
function indexProblems(config: Config): string[] {
  const out: string[] = [];
  config.charts.forEach((c, i) => {
    const where = `charts[${i}].index`;
    if (/^https?:\/\/\S+$/i.test(c.index)) return;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(c.index) && !/^file:/i.test(c.index)) {
      out.push(`${where}: expected an http(s) URL or a local file, got '${c.index}'`);
      return;
    }
    const path = /^file:/i.test(c.index) ? fileURLToPath(c.index) : resolve(c.index);
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      out.push(`${where}: cannot read the local index ${path}: ${code === "ENOENT" ? "no such file" : (code ?? String(e))}`);
      return;
    }
    if (!st?.isFile()) out.push(`${where}: the local index ${path} is not a file`);
  });
  return out;
}

/** Validates a config and prints what `run` would start and the merged result, secrets masked. */
export function checkConfig(argv: string[], out: NodeJS.WritableStream): number {
  const file = configPath(fileArg(argv));
  const { config, defaults } = loadConfig(file);
  const problems = [
    ...accessProblems(
      config.access,
      commands.map((c) => c.name),
    ),
    ...indexProblems(config),
  ];
  if (problems.length) throw new ConfigError(file, problems);
  const adapters = enabledAdapters(config);
  const shown = masked(config) as typeof config;
  const lines = [
    `config ${file} is valid.`,
    ...(defaults ? [`keys it leaves out come from ${defaults}`] : []),
    `would start: ${adapters.length ? adapters.join(", ") : "shell (no chat adapters configured)"}`,
    `store: ${shown.store}${config.store === "sqlite" ? ` (${config.dataDir}/binderbot.sqlite)` : ""}`,
    `charts: ${config.charts.map((c) => `${c.name} (${c.github})`).join(", ")}`,
    `deploy: ${config.deploy.github} ${config.deploy.chartFile} via ${config.deploy.ci}`,
    `http: ${config.http.port ? `port ${config.http.port}` : "off"}`,
    "",
    `effective config${defaults ? ", merged with the defaults" : ""} (secrets masked):`,
    yaml.dump(shown, { lineWidth: 120 }).trimEnd(),
  ];
  out.write(`${lines.join("\n")}\n`);
  return 0;
}
