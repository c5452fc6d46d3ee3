import yaml from "js-yaml";
import { commands } from "../commands/index.ts";
import { ConfigError, configPath, loadConfig } from "../config/load.ts";
import { masked } from "../config/secrets.ts";
import { accessProblems } from "../core/access.ts";
import { enabledAdapters } from "./adapters.ts";

/** Validates a config and prints what `run` would start, secrets masked. */
export function checkConfig(argv: string[], out: NodeJS.WritableStream): number {
  const file = configPath(argv.find((a) => !a.startsWith("-")));
  const { config } = loadConfig(file);
  const problems = accessProblems(
    config.access,
    commands.map((c) => c.name),
  );
  if (problems.length) throw new ConfigError(file, problems);
  const adapters = enabledAdapters(config);
  const shown = masked(config) as typeof config;
  const lines = [
    `config ${file} is valid.`,
    `would start: ${adapters.length ? adapters.join(", ") : "shell (no chat adapters configured)"}`,
    `store: ${shown.store}${config.store === "sqlite" ? ` (${config.dataDir}/binderbot.sqlite)` : ""}`,
    `charts: ${config.charts.map((c) => `${c.name} (${c.github})`).join(", ")}`,
    `deploy: ${config.deploy.github} ${config.deploy.chartFile} via ${config.deploy.ci}`,
    `http: ${config.http.port ? `port ${config.http.port}` : "off"}`,
    "",
    "effective config (secrets masked):",
    yaml.dump(shown, { lineWidth: 120 }).trimEnd(),
  ];
  out.write(`${lines.join("\n")}\n`);
  return 0;
}
