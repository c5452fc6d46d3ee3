import { resolve } from "node:path";
import { type App, type AppOptions, createApp } from "../app.ts";
import type { LoadedConfig } from "../config/load.ts";
import { redactor } from "../config/secrets.ts";
import { errorLine } from "../core/one-line.ts";
import { StartError } from "./usage-error.ts";

/** createApp, with a store that cannot be opened said in one line naming the data directory. */
export async function startApp(loaded: LoadedConfig, opts: AppOptions = {}): Promise<App> {
  try {
    return await createApp(loaded, opts);
  } catch (err) {
    const { config } = loaded;
    const e = err as NodeJS.ErrnoException;
    if (typeof e?.code !== "string") throw err; // not the file system or the store: a bug, with its stack
    const why = redactor(loaded.secrets)(errorLine(err));
    if (config.store === "sqlite")
      throw new StartError(`cannot write the data directory ${resolve(config.dataDir)} (dataDir): ${why}`);
    throw new StartError(`cannot open the store: ${why}`);
  }
}

/** Why the HTTP server could not listen, in one line naming the address. */
export function listenProblem(host: string, port: number, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why =
    e?.code === "EADDRINUSE"
      ? "the port is in use by another process (EADDRINUSE); stop it or set http.port to a free port"
      : e?.code === "EACCES"
        ? "permission denied (EACCES): ports below 1024 need privileges; set http.port to 1024 or above"
        : errorLine(err);
  return `cannot listen on ${host}:${port} (http.port): ${why}`;
}
