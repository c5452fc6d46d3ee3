import type { CommandSpec } from "./command.ts";

/** `sha [chart] [ref]`-style synopsis, generated from the spec. */
export function synopsis<S>(spec: CommandSpec<S>, prefix: string): string {
  const parts = [prefix, spec.name];
  for (const f of spec.flags ?? []) parts.push(f.type === "boolean" ? `[--${f.name}]` : `[--${f.name} <${f.type}>]`);
  for (const a of spec.args) {
    const n = a.type === "rest" ? `${a.name}…` : a.name;
    parts.push(a.required ? `<${n}>` : `[${n}]`);
  }
  return parts.join(" ");
}

export function accessText<S>(spec: CommandSpec<S>): string {
  return spec.access === "anyone" ? "anyone" : spec.access.join(" or ");
}
