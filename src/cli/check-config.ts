import { parseArgs } from "node:util";
import yaml from "js-yaml";
import { commands } from "../commands/index.ts";
import { ConfigError, configPath, loadConfig } from "../config/load.ts";
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

/** Validates a config and prints what `run` would start and the merged result, secrets masked. */
export function checkConfig(argv: string[], out: NodeJS.WritableStream): number {
  const file = configPath(fileArg(argv));
  const { config, defaults } = loadConfig(file);
  const problems = accessProblems(
    config.access,
    commands.map((c) => c.name),
  );
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
