import yaml from "js-yaml";

/** The fields of one chart-index entry that binderbot uses; everything else is skipped. */
export interface RawEntry {
  version: string;
  created: string | null;
  digest: string | null;
  urls: string[];
}

/** Entries by chart; `generated`: the index's own `generated:` time (when the publisher wrote it). */
export type RawIndex = Map<string, RawEntry[]> & { generated?: string | null };

/** Thrown when the body is not a Helm repository index at all. */
export class IndexFormatError extends Error {}

/**
 * Parses a Helm repository `index.yaml` (js-yaml) into the few fields used per entry; descriptions,
 * maintainers and dependencies are dropped as soon as the document is read, so only this compact
 * form is retained.
 */
export function parseIndex(body: string): RawIndex {
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
  out.generated = scalarString(doc.generated);
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
