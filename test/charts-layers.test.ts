import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/*
 * src/charts/ is layered (src/charts/README.md): answer/ → rule/ → git/ and index/, errors.ts shared
 * by all. This reads every import of every file there and names those that go upward or sideways.
 */

const ROOT = resolve(import.meta.dirname, "../src/charts");
const RANK: Record<string, number> = { "errors.ts": 0, git: 1, index: 1, rule: 2, answer: 3 };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The layer of a file under src/charts/: its folder, or errors.ts. */
const layer = (file: string) => relative(ROOT, file).split("/")[0] as string;

describe("src/charts/ layers", () => {
  it("every file is in a layer, and imports only its own layer, errors.ts or the layers below", () => {
    const wrong: string[] = [];
    for (const file of files(ROOT)) {
      const from = layer(file);
      if (RANK[from] === undefined) wrong.push(`${relative(ROOT, file)} is in no layer`);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/gms)) {
        const target = resolve(dirname(file), m[1] as string);
        if (!target.startsWith(`${ROOT}/`)) continue;
        const to = layer(target);
        if (to === from) continue;
        const ok = from !== "errors.ts" && (RANK[to] ?? 99) < (RANK[from] ?? -1);
        if (!ok) wrong.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
