/**
 * The deploy repository's chart file (mybinder/Chart.yaml): where `dependencies[name=<chart>].version`
 * is written, and the same file with only that value changed. Everything else — comments, quoting,
 * indentation, line endings — is kept byte for byte; the result is checked by parsing both texts.
 */

import { isDeepStrictEqual } from "node:util";
import yaml from "js-yaml";
import { errorLine } from "../core/one-line.ts";

export interface PinLocation {
  /** 0-based line index of the `version:` line. */
  line: number;
  /** The pinned value as written (without quotes). */
  version: string;
  /** The whole line as written, without its line ending. */
  text: string;
}

export class PinEditError extends Error {}

const ITEM = /^(\s*)-(\s+|$)/;
const KEY = (key: string) => new RegExp(`^(\\s*(?:-\\s+)?${key}\\s*:\\s*)(["']?)([^"'#\\s]+)\\2(\\s*(?:#.*)?)$`);

function load(text: string): unknown {
  try {
    return yaml.load(text);
  } catch (e) {
    throw new PinEditError(`the chart file is not valid YAML (${errorLine(e)})`);
  }
}

function dependencies(doc: unknown): Array<Record<string, unknown>> {
  const deps = (doc as { dependencies?: unknown } | null)?.dependencies;
  return Array.isArray(deps) ? (deps as Array<Record<string, unknown>>) : [];
}

/** Splits keeping each line's ending ("\n", "\r\n" or none for the last). */
function splitLines(text: string): Array<{ body: string; eol: string }> {
  const out: Array<{ body: string; eol: string }> = [];
  const re = /([^\r\n]*)(\r\n|\n|$)/g;
  for (const m of text.matchAll(re)) {
    if (m[0] === "" && m.index === text.length) break;
    out.push({ body: m[1] ?? "", eol: m[2] ?? "" });
  }
  return out;
}

const indentOf = (s: string) => /^\s*/.exec(s)?.[0].length ?? 0;
const blank = (s: string) => s.trim() === "" || s.trim().startsWith("#");

/** The `version:` line of the dependency named `chart` in block style; throws PinEditError when there is none. */
export function locatePin(text: string, chart: string): PinLocation {
  const doc = load(text);
  const dep = dependencies(doc).find((d) => d?.name === chart);
  if (!dep) throw new PinEditError(`the chart file has no dependency named ${chart}`);
  const lines = splitLines(text);
  const top = lines.findIndex((l) => /^dependencies\s*:\s*(#.*)?$/.test(l.body));
  if (top < 0) throw new PinEditError("the chart file's dependencies are not a block list (cannot edit one line)");
  const nameRe = KEY("name");
  const versionRe = KEY("version");
  let i = top + 1;
  while (i < lines.length) {
    const l = lines[i]!.body;
    if (blank(l)) {
      i++;
      continue;
    }
    if (indentOf(l) === 0 && !l.startsWith("-")) break; // the next top-level key
    const item = ITEM.exec(l);
    if (!item) {
      i++;
      continue;
    }
    const dash = item[1]!.length;
    let end = i + 1;
    while (end < lines.length && (blank(lines[end]!.body) || indentOf(lines[end]!.body) > dash)) end++;
    // The item's own keys: on the dash line, or on lines indented to the column after "- ".
    const keyIndent = dash + 1 + (item[2]?.length ?? 0);
    let name: string | null = null;
    let version: PinLocation | null = null;
    for (let j = i; j < end; j++) {
      const body = lines[j]!.body;
      if (j > i && indentOf(body) !== keyIndent) continue;
      const n = nameRe.exec(body);
      if (n) name = n[3]!;
      const v = versionRe.exec(body);
      if (v) version = { line: j, version: v[3]!, text: body };
    }
    if (name === chart) {
      if (!version) throw new PinEditError(`the ${chart} dependency has no version line`);
      if (version.version !== String(dep.version)) {
        throw new PinEditError(`the ${chart} version line does not hold the parsed version (${String(dep.version)})`);
      }
      return version;
    }
    i = end;
  }
  throw new PinEditError(`cannot find the version line of the ${chart} dependency`);
}

/** The file with the pinned version of `chart` replaced by `version` on its one line, nothing else changed. */
export function rewritePin(text: string, chart: string, version: string): { text: string; location: PinLocation } {
  if (!/^[\w.+-]+$/.test(version)) throw new PinEditError(`'${version}' is not a chart version`);
  const location = locatePin(text, chart);
  const lines = splitLines(text);
  const line = lines[location.line]!;
  const m = KEY("version").exec(line.body)!;
  line.body = `${m[1]}${m[2]}${version}${m[2]}${m[4]}`;
  const out = lines.map((l) => l.body + l.eol).join("");
  // The edit must change that one value and nothing else a YAML reader sees.
  const before = load(text);
  const after = load(out);
  const dep = dependencies(after).find((d) => d?.name === chart);
  if (!dep || String(dep.version) !== version) throw new PinEditError("the edited file does not pin the new version");
  dep.version = dependencies(before).find((d) => d?.name === chart)?.version;
  if (!isDeepStrictEqual(before, after)) throw new PinEditError("the edit would change more than the version");
  return { text: out, location };
}

/** The pinned version of `chart` (null when the file has no such dependency). */
export function pinnedIn(text: string, chart: string): string | null {
  const dep = dependencies(load(text)).find((d) => d?.name === chart);
  return dep?.version == null ? null : String(dep.version);
}
