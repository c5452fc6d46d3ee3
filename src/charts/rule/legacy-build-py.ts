import { posix } from "node:path";

/**
 * Before chartpress.yaml existed (binderhub until 2017-12-12), CI ran a vendored `<folder of chartpress.yaml>/build.py`
 * from the repository root, and its `build_chart()` took the version's hash from
 * `git log -n 1 --pretty=format:%h -- <paths>`. Which paths changed between copies of the script:
 * first `'.'` (the whole repository, from CI's working directory), later
 * `[BASEPATH] + IMAGE_FILES` (the chart folder, setup.py, the Python package, the image).
 *
 * This reads those paths out of the script by evaluating the few module-level assignments such
 * scripts make: string literals, `__file__`, `os.path.join/dirname/abspath`, lists and `+`. It
 * returns repository-relative pathspecs, or null when the script is not of that kind.
 */
export function legacyChartPaths(script: string, cpDir: string): string[] | null {
  const body = functionBody(script, "build_chart");
  if (body === null) return null;
  const call = /\blast_(?:git_modified|modified_commit)\(/.exec(body);
  if (!call) return null;
  const arg = balanced(body, call.index + call[0].length - 1);
  if (arg === null) return null;
  const env = new Map<string, Value>();
  for (const m of script.matchAll(/^([A-Za-z_]\w*)\s*=\s*(.+?)\s*(?:#.*)?$/gm)) {
    const v = evaluate(m[2] as string, env, cpDir);
    if (v !== null) env.set(m[1] as string, v);
  }
  const value = evaluate(arg, env, cpDir);
  if (value === null) return null;
  const list = (Array.isArray(value) ? value : [value]).map((p) => posix.normalize(p).replace(/\/$/, "") || ".");
  if (list.length === 0 || list.some((p) => p === ".." || p.startsWith("../"))) return null;
  return [...new Set(list)].sort();
}

type Value = string | string[];

/** The text of a top-level `def name(...):` up to the next top-level statement. */
function functionBody(script: string, name: string): string | null {
  const start = new RegExp(`^def ${name}\\b[^\\n]*\\n`, "m").exec(script);
  if (!start) return null;
  const rest = script.slice(start.index + start[0].length);
  const end = /^\S/m.exec(rest);
  return end ? rest.slice(0, end.index) : rest;
}

/** The text inside the parenthesis that opens at `open`, or null when unbalanced. */
function balanced(text: string, open: number): string | null {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "(" || text[i] === "[") depth++;
    else if (text[i] === ")" || text[i] === "]") {
      depth--;
      if (depth === 0) return text.slice(open + 1, i);
    }
  }
  return null;
}

/** Splits on `sep` outside brackets and quotes. */
function splitTop(expr: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = "";
  for (const ch of expr) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    else if (ch === sep && depth === 0) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

function evaluate(raw: string, env: Map<string, Value>, cpDir: string): Value | null {
  const expr = raw.trim();
  const sum = splitTop(expr, "+");
  if (sum.length > 1) {
    const parts = sum.map((p) => evaluate(p, env, cpDir));
    if (parts.some((p) => p === null || !Array.isArray(p))) return null;
    return (parts as string[][]).flat();
  }
  const literal = /^(['"])([^'"]*)\1$/.exec(expr);
  if (literal) return literal[2] as string;
  if (expr === "__file__") return posix.join(cpDir, "build.py");
  if (/^[A-Za-z_]\w*$/.test(expr)) return env.get(expr) ?? null;
  if (expr.startsWith("[") && expr.endsWith("]")) {
    const items = splitTop(expr.slice(1, -1), ",").filter((s) => s !== "");
    const values = items.map((i) => evaluate(i, env, cpDir));
    return values.every((v) => typeof v === "string") ? (values as string[]) : null;
  }
  const call = /^os\.path\.(join|dirname|abspath)\(/.exec(expr);
  if (call && expr.endsWith(")") && balanced(expr, call[0].length - 1)?.length === expr.length - call[0].length - 1) {
    const args = splitTop(expr.slice(call[0].length, -1), ",").map((a) => evaluate(a, env, cpDir));
    if (args.some((a) => typeof a !== "string")) return null;
    const s = args as string[];
    if (call[1] === "join") return posix.join(...s);
    if (call[1] === "dirname") return s.length === 1 ? posix.dirname(s[0] as string) : null;
    return s.length === 1 ? (s[0] as string) : null; // abspath: paths here are already repository-relative
  }
  return null;
}
