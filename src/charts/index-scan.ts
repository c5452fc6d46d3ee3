import yaml from "js-yaml";

/** The fields of one chart-index entry that binderbot uses; everything else is skipped. */
export interface RawEntry {
  version: string;
  created: string | null;
  digest: string | null;
  urls: string[];
}

export type RawIndex = Map<string, RawEntry[]>;

/** Which parser produced a result: the line scanner, or js-yaml when the scanner declined. */
export type ParserUsed = "scan" | "yaml";

/** Thrown when the body is not a Helm repository index at all (both parsers agree). */
export class IndexFormatError extends Error {}

/**
 * Parses a Helm repository `index.yaml` into the few fields used per entry.
 *
 * Helm writes the index with a fixed, simple layout (sigs.k8s.io/yaml: block mappings, sorted keys,
 * sequences not indented). A line scanner that reads only `entries.<chart>[].{version,created,digest,urls}`
 * is several times faster than a full YAML parse and keeps none of the descriptions, maintainers and
 * dependencies in memory. Whenever the scanner meets something outside that layout (anchors, flow
 * collections, block scalars in a needed field, documents, tabs…) it gives up and js-yaml parses the
 * whole body, so an unusual but valid index is still read correctly.
 */
export function parseIndex(body: string): { index: RawIndex; parser: ParserUsed } {
  const scanned = scanIndex(body);
  if (scanned) return { index: scanned, parser: "scan" };
  return { index: parseIndexYaml(body), parser: "yaml" };
}

/** The full js-yaml parse (reference implementation; also the fallback). */
export function parseIndexYaml(body: string): RawIndex {
  let doc: unknown;
  try {
    // FAILSAFE: every scalar stays the string written (a version `0.10` must not become 0.1, a
    // timestamp must not become a Date), and no time is spent resolving types we never use.
    doc = yaml.load(body, { schema: yaml.FAILSAFE_SCHEMA });
  } catch (e) {
    const reason = e instanceof yaml.YAMLException ? e.reason || e.message : String(e);
    throw new IndexFormatError(`not valid YAML (${reason})`);
  }
  if (!isObject(doc) || !("entries" in doc)) throw new IndexFormatError("not a Helm repository index (no `entries`)");
  const entries = doc.entries ?? {};
  if (!isObject(entries)) throw new IndexFormatError("`entries` is not a mapping");
  const out: RawIndex = new Map();
  for (const [chart, list] of Object.entries(entries)) {
    if (list === null || list === "" || list === "~" || list === "null") {
      out.set(chart, []);
      continue;
    }
    if (!Array.isArray(list)) throw new IndexFormatError(`entries.${chart} is not a list`);
    const rows: RawEntry[] = [];
    for (const e of list) {
      if (!isObject(e) || scalarString(e.version) === null) continue;
      rows.push({
        version: String(e.version),
        created: scalarString(e.created),
        digest: scalarString(e.digest),
        urls: Array.isArray(e.urls) ? e.urls.map(String) : [],
      });
    }
    out.set(chart, rows);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function scalarString(v: unknown): string | null {
  if (v === undefined || v === null || v === "" || v === "~" || v === "null") return null;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Not the simple layout: let js-yaml handle it. */
class Decline extends Error {}

/**
 * The line scanner. Returns null (never throws) when the body is not in the layout it knows, so the
 * caller falls back to js-yaml.
 */
export function scanIndex(body: string): RawIndex | null {
  try {
    return scan(body);
  } catch (e) {
    if (e instanceof Decline) return null;
    return null;
  }
}

function scan(body: string): RawIndex {
  const out: RawIndex = new Map();
  const len = body.length;
  let pos = 0;
  let sawEntries = false;
  let inEntries = false;
  let chartIndent = -1; // indent of chart-name keys under `entries:`
  let itemIndent = -1; // indent of `- ` that starts an entry
  let fieldIndent = -1; // indent of an entry's keys
  let chart: RawEntry[] | null = null;
  let entry: Partial<RawEntry> & { urls?: string[] } = {};
  let hasEntry = false;
  let currentKey = ""; // last key seen at fieldIndent (to attribute `- item` lines to it)
  let seqIndent = -1; // indent of `- ` items of the current field's sequence

  const finish = () => {
    if (!hasEntry) return;
    if (entry.version === undefined) throw new Decline("entry without version");
    chart!.push({
      version: entry.version,
      created: entry.created ?? null,
      digest: entry.digest ?? null,
      urls: entry.urls ?? [],
    });
    entry = {};
    hasEntry = false;
    currentKey = "";
    seqIndent = -1;
  };

  const field = (key: string, rest: string) => {
    currentKey = key;
    seqIndent = -1;
    if (key === "version" || key === "created" || key === "digest") {
      const v = scalar(rest);
      if (v === null) throw new Decline(`${key} is not a simple scalar`);
      entry[key] = v;
    } else if (key === "urls") {
      if (rest === "[]") entry.urls = [];
      else if (rest !== "") throw new Decline("urls is not a block sequence");
      else entry.urls = [];
    }
  };

  while (pos < len) {
    let end = body.indexOf("\n", pos);
    if (end < 0) end = len;
    const start = pos;
    pos = end + 1;
    let stop = end;
    if (stop > start && body.charCodeAt(stop - 1) === 13) stop--; // CRLF

    let indent = 0;
    while (start + indent < stop && body.charCodeAt(start + indent) === 32) indent++;
    if (start + indent === stop) continue; // blank
    const c = body.charCodeAt(start + indent);
    if (c === 9) throw new Decline("tab");
    if (c === 35 /* # */) continue;
    // Most lines of an index are nested deeper than an entry's keys (descriptions, maintainers,
    // dependencies…): skip them without allocating a string.
    if (inEntries && fieldIndent >= 0 && indent > fieldIndent && (c !== 45 || currentKey !== "urls")) continue;
    const line = body.slice(start, stop);

    if (indent === 0) {
      if (line.startsWith("---") || line.startsWith("...") || line.startsWith("%")) throw new Decline("document marker");
      if (inEntries) {
        finish();
        inEntries = false;
      }
      if (line === "entries:" || line.startsWith("entries: #")) {
        if (sawEntries) throw new Decline("two entries keys");
        sawEntries = true;
        inEntries = true;
      } else if (line.startsWith("entries:")) {
        const rest = line.slice(8).trim();
        if (rest === "{}") sawEntries = true;
        else throw new Decline("entries is not a block mapping");
      } else if (line.startsWith("- ") || line === "-") {
        throw new Decline("top level is a sequence");
      }
      continue;
    }
    if (!inEntries) continue;

    if (chartIndent < 0) chartIndent = indent;
    if (indent < chartIndent) throw new Decline("odd indentation");
    if (indent === chartIndent && c !== 45 /* - */) {
      // a chart name: `  binderhub:` (a `- ` here is an entry in yaml.v2 style, handled below)
      finish();
      const m = /^([A-Za-z0-9_.-]+):\s*(\S.*)?$/.exec(line.slice(indent));
      if (!m) throw new Decline("chart key");
      chart = [];
      out.set(m[1]!, chart);
      if (m[2] !== undefined && m[2] !== "[]" && !m[2].startsWith("#")) throw new Decline("chart value is not a block sequence");
      itemIndent = -1;
      continue;
    }
    if (!chart) throw new Decline("content before a chart key");

    if (c === 45 && (line.length === indent + 1 || line.charCodeAt(indent + 1) === 32)) {
      // a sequence item: a new entry, or an element of the current field's sequence (urls, keywords…)
      if (itemIndent < 0) {
        itemIndent = indent;
        fieldIndent = -1;
      }
      if (indent === itemIndent) {
        finish();
        hasEntry = true;
        const rest = line.slice(indent + 1).trimStart();
        if (rest === "") continue;
        const kv = keyValue(rest);
        if (!kv) throw new Decline("entry does not start with a key");
        fieldIndent = line.length - rest.length;
        field(kv[0], kv[1]);
        continue;
      }
      if (!hasEntry || fieldIndent < 0 || indent < fieldIndent) throw new Decline("sequence item out of place");
      if (seqIndent < 0) seqIndent = indent;
      if (indent === seqIndent && currentKey === "urls") {
        const v = scalar(line.slice(indent + 1).trim());
        if (v === null) throw new Decline("url is not a simple scalar");
        entry.urls!.push(v);
      }
      continue;
    }
    if (!hasEntry) throw new Decline("content outside an entry");
    if (fieldIndent < 0) fieldIndent = indent;
    if (indent < fieldIndent) throw new Decline("odd indentation in entry");
    if (indent > fieldIndent) continue; // nested content or a continuation line of a field we skip
    const kv = keyValue(line.slice(indent));
    if (!kv) throw new Decline("entry line is not a key");
    field(kv[0], kv[1]);
  }
  if (inEntries) finish();
  if (!sawEntries) throw new Decline("no entries");
  return out;
}

/** `key: rest` or `key:` → [key, rest]; null when the line is not a simple key. */
function keyValue(s: string): [string, string] | null {
  const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(s);
  if (!m) return null;
  return [m[1]!, (m[2] ?? "").trim()];
}

/** A single-line scalar: plain, 'single' or "double" quoted. Null when it is anything else. */
function scalar(s: string): string | null {
  if (s === "") return null;
  const c = s[0]!;
  if (c === '"') {
    if (!s.endsWith('"') || s.length < 2) return null;
    try {
      const v: unknown = JSON.parse(s);
      return typeof v === "string" ? v : null;
    } catch {
      return null;
    }
  }
  if (c === "'") {
    if (!s.endsWith("'") || s.length < 2) return null;
    const inner = s.slice(1, -1);
    if (/'(?!')/.test(inner.replace(/''/g, ""))) return null;
    return inner.replace(/''/g, "'");
  }
  if ("|>&*!{[@`%?,".includes(c)) return null;
  const hash = s.indexOf(" #");
  const v = (hash >= 0 ? s.slice(0, hash) : s).trimEnd();
  if (v === "~" || v === "null" || v === "Null" || v === "NULL") return null;
  return v;
}
