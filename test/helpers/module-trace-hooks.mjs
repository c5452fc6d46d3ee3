// Module customization hooks (see module-trace.mjs): append every resolved module URL to a file.
import { appendFileSync } from "node:fs";

let file = "";
export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, `${r.url}\n`);
  return r;
}
