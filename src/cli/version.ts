import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The version in the package.json above this file (the sources and dist/ both find it). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "binderbot") return pkg.version ?? "unknown";
    }
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}
