import { ShellAdapter } from "../../adapters/shell/shell.ts";
import type { App } from "../app.ts";
import type { Config } from "../config/schema.ts";
import type { Adapter } from "../core/adapter.ts";

/** The chat adapters a config enables, in start order; the shell when there are none. */
export function enabledAdapters(config: Config): string[] {
  const a = config.adapters;
  const out: string[] = [];
  if (a.slack?.enabled) out.push("slack");
  if (a.matrix?.enabled) out.push("matrix");
  if (a.gitter?.enabled) out.push("gitter");
  if (a.shell?.enabled) out.push("shell");
  return out;
}

/** Builds the adapter objects for `run`. The composition root is the only place that imports adapters. */
export async function buildAdapters(app: App): Promise<Adapter[]> {
  const names = enabledAdapters(app.services.config);
  if (names.length === 0) names.push("shell");
  const out: Adapter[] = [];
  for (const name of names) {
    switch (name) {
      case "shell":
        out.push(new ShellAdapter());
        break;
      default:
        throw new Error(`adapter '${name}' is not available in this build`);
    }
  }
  return out;
}
