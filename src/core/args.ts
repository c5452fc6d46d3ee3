import type { ArgSpec, ArgValue, CommandSpec, FlagValue, Invocation } from "./command.ts";
import { clip } from "./one-line.ts";
import { parseRef } from "./ref.ts";

export type BindResult = { ok: true; invocation: Invocation } | { ok: false; error: string };

/** Checks tokens against a command's declared flags and arguments. */
export function bind<S>(spec: CommandSpec<S>, tokens: readonly string[], implied?: Record<string, FlagValue>): BindResult {
  const flags: Record<string, FlagValue> = { ...(implied ?? {}) };
  const positional: string[] = [];
  const flagSpecs = spec.flags ?? [];
  let endOfFlags = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    if (!endOfFlags && tok === "--") {
      endOfFlags = true;
      continue;
    }
    if (!endOfFlags && /^--?[A-Za-z]/.test(tok)) {
      const dashes = tok.startsWith("--") ? "--" : "-";
      const [rawName, inline] = splitOnce(tok.slice(dashes.length), "=");
      const fs = flagSpecs.find((f) => f.name === rawName.toLowerCase());
      if (!fs) {
        // Said back as typed: `-c x` is reported as '-c', not as a '--c' nobody wrote.
        const known = flagSpecs.map((f) => `--${f.name}`).join(", ");
        return {
          ok: false,
          error: `unknown flag '${dashes}${clip(rawName)}'${known ? ` (it takes ${known})` : " (it takes no flags)"}`,
        };
      }
      if (fs.type === "boolean") {
        if (inline !== undefined && !/^(true|false)$/i.test(inline)) return { ok: false, error: `--${fs.name} takes no value` };
        flags[fs.name] = inline === undefined ? true : inline.toLowerCase() === "true";
        continue;
      }
      const value = inline ?? tokens[++i];
      if (value === undefined) return { ok: false, error: `--${fs.name} needs a value` };
      if (fs.type === "int") {
        if (!/^\d{1,9}$/.test(value)) return { ok: false, error: `--${fs.name} takes a whole number, not '${clip(value)}'` };
        flags[fs.name] = Number(value);
      } else flags[fs.name] = value;
      continue;
    }
    positional.push(tok);
  }

  const specs = [...spec.args];
  const rest = specs.at(-1)?.type === "rest";
  // Skip leading optional arguments when fewer values are given than declared, or when the value
  // plainly is the next argument (`sha 4e3bafb extra words`: 4e3bafb is the ref, not a chart name,
  // so 'extra words' is what was not expected).
  while (
    specs[0]?.leading &&
    !specs[0].required &&
    ((!rest && positional.length < specs.length) || (positional[0] !== undefined && plainly(specs[1], positional[0])))
  )
    specs.shift();
  const args: Record<string, ArgValue> = {};
  for (const a of spec.args) args[a.name] = undefined;
  if (!rest && positional.length > specs.length) {
    const extra = positional
      .slice(specs.length)
      .map((p) => clip(p))
      .join(" ");
    return { ok: false, error: `too many arguments: '${extra}' was not expected` };
  }
  for (let i = 0; i < specs.length; i++) {
    const a = specs[i] as ArgSpec;
    const raw = a.type === "rest" ? positional.slice(i).join(" ") || undefined : positional[i];
    if (raw === undefined) {
      if (a.required) return { ok: false, error: `missing <${a.name}>: ${a.description}` };
      continue;
    }
    const checked = check(a, raw);
    if (typeof checked === "object") return { ok: false, error: checked.error };
    args[a.name] = checked;
  }
  return { ok: true, invocation: { args, flags, tokens: [...tokens] } };
}

function check(a: ArgSpec, raw: string): ArgValue | { error: string } {
  switch (a.type) {
    case "int":
      return /^\d{1,9}$/.test(raw) ? Number(raw) : { error: `<${a.name}> must be a whole number, not '${clip(raw)}'` };
    case "enum": {
      const v = raw.toLowerCase();
      return a.choices?.includes(v) ? v : { error: `<${a.name}> must be one of ${a.choices?.join(", ")}, not '${clip(raw)}'` };
    }
    case "ref": {
      const r = parseRef(raw);
      return "error" in r ? { error: r.error } : raw.trim();
    }
    default:
      return raw;
  }
}

/** Whether a value can only be meant as this argument (a commit hash or PR for a ref, a number for an int). */
function plainly(a: ArgSpec | undefined, raw: string): boolean {
  if (!a) return false;
  if (a.type === "ref") {
    const r = parseRef(raw);
    return !("error" in r) && r.kind !== "branch";
  }
  if (a.type === "int") return /^\d{1,9}$/.test(raw);
  if (a.type === "enum") return a.choices?.includes(raw.toLowerCase()) ?? false;
  return false;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
