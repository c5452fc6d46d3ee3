import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { commandsDoc } from "../src/cli/docs.ts";
import { commands } from "../src/commands/index.ts";
import { DEFAULT_CONFIG, loadConfig } from "../src/config/load.ts";

const repo = resolve(import.meta.dirname, "..");

describe("generated docs", () => {
  it("docs/commands.md is what the command specs generate (run `npm run docs:commands`)", () => {
    expect(readFileSync(resolve(repo, "docs/commands.md"), "utf8")).toBe(commandsDoc());
  });

  it("documents every command with a summary, an example and its access", () => {
    const doc = commandsDoc();
    for (const c of commands) {
      expect(doc).toContain(`## ${c.name}`);
      expect(c.examples.length).toBeGreaterThan(0);
      for (const e of c.examples) expect(doc).toContain(`!binder ${e}`);
    }
  });
});

describe("the Dockerfile", () => {
  it("publishes the port the shipped config serves on, and no other", () => {
    const dockerfile = readFileSync(resolve(repo, "Dockerfile"), "utf8");
    const exposed = [...dockerfile.matchAll(/^EXPOSE\s+(\d+)/gm)].map((m) => Number(m[1]));
    const published = [...dockerfile.matchAll(/-p\s+\d+:(\d+)/g)].map((m) => Number(m[1]));
    const { port } = loadConfig(DEFAULT_CONFIG, {}).config.http;
    const served = port > 0 ? [port] : [];
    expect(exposed).toEqual(served);
    expect(published.filter((p) => !served.includes(p))).toEqual([]);
  });
});
