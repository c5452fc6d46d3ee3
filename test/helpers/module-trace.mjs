// Preloaded with `node --import` by test/cli-startup.test.ts: records which modules a process loads into
// the file named by BINDERBOT_MODULE_TRACE, one per line. ES modules through a resolve hook; CommonJS
// ones (Bolt, express and prom-client are CommonJS) from the require cache at exit.
import { appendFileSync, writeFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const file = process.env.BINDERBOT_MODULE_TRACE;
if (file) {
  writeFileSync(file, "");
  register("./module-trace-hooks.mjs", { parentURL: import.meta.url, data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () => appendFileSync(file, `${Object.keys(cache).join("\n")}\n`));
}
