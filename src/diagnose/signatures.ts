/**
 * config/signatures.yaml: the fingerprints of deploy failures, loaded and validated with errors that name
 * the file and the entry ("signatures[12] (id H13): patterns[1]: invalid regular expression …").
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

export const DEFAULT_SIGNATURES = resolve(dirname(fileURLToPath(import.meta.url)), "../../config/signatures.yaml");

export type Category = "spurious" | "legitimate" | "noise";
export type CiSystem = "gha" | "travis";

/** One way of spotting a signature; a variant may change the category/advice (e.g. a 404 instead of a 5xx). */
export interface SignaturePattern {
  regex: RegExp;
  category: Category;
  advice: string;
}

export interface Signature {
  id: string;
  category: Category;
  title: string;
  family: string | null;
  patterns: SignaturePattern[];
  advice: string;
  confidence: number;
  /** Ids this one defers to when one of them is found in the failing step or after the failure marker. */
  defersTo: string[];
  /** Noise when one of these matches within `followedWithin` lines after it (inside the failing step). */
  noiseWhenFollowedBy: RegExp[];
  followedWithin: number;
  /** Less certain when one of these ids appears earlier in the failing step. */
  doubtWhenPrecededBy: string[];
}

export interface LinePattern {
  id: string;
  regex: RegExp;
  system: CiSystem | null;
}

export interface Signatures {
  file: string;
  /** Lines that start a step: the search window begins at the last one before the failure marker. */
  steps: LinePattern[];
  /** Failure markers: the first one ends the search window. */
  markers: LinePattern[];
  /** Lines that show a step passed (never enough for a success); the last one is a success's decisive line. */
  success: LinePattern[];
  /** Run-level evidence that the whole job passed (Travis "Done. Your build exited with 0."). */
  passed: LinePattern[];
  /** Lines after the job's own steps (GitHub Actions post-job cleanup): the step before them is the last one. */
  jobEnd: LinePattern[];
  /** Lines that show an error; printed in the last step and not followed by a success line, the job failed. */
  errors: LinePattern[];
  signatures: Signature[];
  byId: Map<string, Signature>;
}

export class SignaturesError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid signatures file ${file}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SignaturesError";
  }
}

const CATEGORIES: readonly Category[] = ["spurious", "legitimate", "noise"];
const SYSTEMS: readonly CiSystem[] = ["gha", "travis"];
const SIGNATURE_KEYS = new Set([
  "id",
  "category",
  "title",
  "family",
  "patterns",
  "pattern",
  "advice",
  "confidence",
  "flags",
  "defers_to",
  "noise_when_followed_by",
  "followed_within",
  "doubt_when_preceded_by",
  "source",
]);
const ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function compile(source: unknown, flags: string, where: string, problems: string[]): RegExp | null {
  if (typeof source !== "string" || source === "") {
    problems.push(`${where}: expected a non-empty regular expression string`);
    return null;
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    problems.push(`${where}: invalid regular expression /${source}/: ${(err as Error).message}`);
    return null;
  }
}

function stringList(v: unknown, where: string, problems: string[]): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) {
    problems.push(`${where}: expected a string or a list of strings`);
    return [];
  }
  return list as string[];
}

function linePatterns(doc: Obj, key: string, problems: string[]): LinePattern[] {
  const raw = doc[key];
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${key}: expected a list`);
    return [];
  }
  const out: LinePattern[] = [];
  raw.forEach((entry, i) => {
    const where = `${key}[${i}]${isObj(entry) && typeof entry.id === "string" ? ` (id ${entry.id})` : ""}`;
    if (!isObj(entry)) {
      problems.push(`${where}: expected a mapping with id and pattern`);
      return;
    }
    const system = entry.system ?? null;
    if (system !== null && !SYSTEMS.includes(system as CiSystem)) problems.push(`${where}: system must be gha or travis`);
    const regex = compile(entry.pattern, typeof entry.flags === "string" ? entry.flags : "", `${where}: pattern`, problems);
    if (regex)
      out.push({ id: typeof entry.id === "string" ? entry.id : `${key}-${i}`, regex, system: system as CiSystem | null });
  });
  return out;
}

export function parseSignatures(text: string, file = "<signatures>"): Signatures {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (err) {
    throw new SignaturesError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (!isObj(doc)) throw new SignaturesError(file, ["expected a mapping with steps, markers, success and signatures"]);
  const steps = linePatterns(doc, "steps", problems);
  const markers = linePatterns(doc, "markers", problems);
  const success = linePatterns(doc, "success", problems);
  const passed = linePatterns(doc, "passed", problems);
  const jobEnd = linePatterns(doc, "job_end", problems);
  const errors = linePatterns(doc, "errors", problems);
  if (markers.length === 0 && problems.length === 0) problems.push("markers: at least one failure marker is needed");

  const signatures: Signature[] = [];
  const byId = new Map<string, Signature>();
  const rawSigs = doc.signatures;
  if (!Array.isArray(rawSigs) || rawSigs.length === 0) problems.push("signatures: expected a non-empty list");
  const deferrals: Array<[string, string, string[]]> = [];
  (Array.isArray(rawSigs) ? rawSigs : []).forEach((entry, i) => {
    const id = isObj(entry) && typeof entry.id === "string" ? entry.id : undefined;
    const where = `signatures[${i}]${id ? ` (id ${id})` : ""}`;
    if (!isObj(entry)) {
      problems.push(`${where}: expected a mapping`);
      return;
    }
    for (const key of Object.keys(entry)) if (!SIGNATURE_KEYS.has(key)) problems.push(`${where}: unknown key '${key}'`);
    if (!id || !ID.test(id)) problems.push(`${where}: id must be a word such as H13`);
    else if (byId.has(id)) problems.push(`${where}: duplicate id ${id}`);
    const category = entry.category as Category;
    if (!CATEGORIES.includes(category)) problems.push(`${where}: category must be one of ${CATEGORIES.join(", ")}`);
    if (typeof entry.title !== "string" || entry.title.trim() === "") problems.push(`${where}: title is required`);
    if (typeof entry.advice !== "string" || entry.advice.trim() === "") problems.push(`${where}: advice is required`);
    if (entry.family !== undefined && typeof entry.family !== "string") problems.push(`${where}: family must be a string`);
    const confidence = entry.confidence ?? 0.9;
    if (typeof confidence !== "number" || confidence < 0 || confidence > 1) problems.push(`${where}: confidence must be 0..1`);
    const flags = typeof entry.flags === "string" ? entry.flags : "";
    const rawPatterns = entry.patterns ?? (entry.pattern !== undefined ? [entry.pattern] : undefined);
    if (!Array.isArray(rawPatterns) || rawPatterns.length === 0) problems.push(`${where}: patterns: expected a non-empty list`);
    const patterns: SignaturePattern[] = [];
    (Array.isArray(rawPatterns) ? rawPatterns : []).forEach((p, j) => {
      const pw = `${where}: patterns[${j}]`;
      if (typeof p === "string") {
        const regex = compile(p, flags, pw, problems);
        if (regex) patterns.push({ regex, category, advice: String(entry.advice ?? "") });
        return;
      }
      if (!isObj(p)) {
        problems.push(`${pw}: expected a regex string or {pattern, category?, advice?}`);
        return;
      }
      for (const key of Object.keys(p))
        if (!["pattern", "category", "advice"].includes(key)) problems.push(`${pw}: unknown key '${key}'`);
      const pc = (p.category ?? category) as Category;
      if (!CATEGORIES.includes(pc)) problems.push(`${pw}: category must be one of ${CATEGORIES.join(", ")}`);
      const regex = compile(p.pattern, flags, `${pw}.pattern`, problems);
      if (regex)
        patterns.push({ regex, category: pc, advice: typeof p.advice === "string" ? p.advice : String(entry.advice ?? "") });
    });
    const followedWithin = entry.followed_within ?? 10;
    if (typeof followedWithin !== "number" || !Number.isInteger(followedWithin) || followedWithin < 1)
      problems.push(`${where}: followed_within must be a positive integer`);
    const noiseWhenFollowedBy = stringList(entry.noise_when_followed_by, `${where}: noise_when_followed_by`, problems)
      .map((s, j) => compile(s, "", `${where}: noise_when_followed_by[${j}]`, problems))
      .filter((r): r is RegExp => r !== null);
    const defersTo = stringList(entry.defers_to, `${where}: defers_to`, problems);
    const doubtWhenPrecededBy = stringList(entry.doubt_when_preceded_by, `${where}: doubt_when_preceded_by`, problems);
    deferrals.push([where, "defers_to", defersTo], [where, "doubt_when_preceded_by", doubtWhenPrecededBy]);
    if (!id || byId.has(id)) return;
    const sig: Signature = {
      id,
      category,
      title: String(entry.title ?? ""),
      family: typeof entry.family === "string" ? entry.family : null,
      patterns,
      advice: String(entry.advice ?? "").trim(),
      confidence: typeof confidence === "number" ? confidence : 0.9,
      defersTo,
      noiseWhenFollowedBy,
      followedWithin: typeof followedWithin === "number" ? followedWithin : 10,
      doubtWhenPrecededBy,
    };
    signatures.push(sig);
    byId.set(id, sig);
  });
  for (const [where, key, ids] of deferrals)
    for (const target of ids) if (!byId.has(target)) problems.push(`${where}: ${key} names unknown id ${target}`);
  if (problems.length > 0) throw new SignaturesError(file, problems);
  return { file, steps, markers, success, passed, jobEnd, errors, signatures, byId };
}

const cache = new Map<string, Signatures>();

/** Loads and validates a signatures file (default config/signatures.yaml); throws SignaturesError naming file and entry. */
export function loadSignatures(file: string = DEFAULT_SIGNATURES): Signatures {
  const path = resolve(file);
  const hit = cache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SignaturesError(path, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  const sigs = parseSignatures(text, path);
  cache.set(path, sigs);
  return sigs;
}
