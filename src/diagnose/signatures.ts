/**
 * config/signatures.yaml: the fingerprints of deploy failures, loaded and validated with zod like the config,
 * with errors that name the file and the key path ("signatures[12] (id H13).patterns[1]: invalid regular
 * expression …").
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { z } from "zod";
import { formatIssue, formatPath } from "../config/load.ts";

const DEFAULT_SIGNATURES = resolve(dirname(fileURLToPath(import.meta.url)), "../../config/signatures.yaml");

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

const ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const regexSource = z.string().min(1, "expected a non-empty regular expression");
const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (typeof v === "string" ? [v] : v));
const category = z.enum(["spurious", "legitimate", "noise"]);
const linePatternSchema = z.strictObject({
  id: z.string().regex(ID, "id must be a word such as gha-error").optional(),
  system: z.enum(["gha", "travis"]).nullable().optional(),
  pattern: regexSource,
  flags: z.string().optional(),
});
const variantSchema = z.strictObject({ pattern: regexSource, category: category.optional(), advice: z.string().optional() });
const patternSchema = z.union([regexSource, variantSchema]);
const signatureSchema = z
  .strictObject({
    id: z.string().regex(ID, "id must be a word such as H13"),
    category,
    title: z.string().trim().min(1, "title is required"),
    family: z.string().optional(),
    pattern: patternSchema.optional(),
    patterns: z.array(patternSchema).min(1, "expected at least one pattern").optional(),
    advice: z.string().trim().min(1, "advice is required"),
    confidence: z.number().min(0).max(1).default(0.9),
    flags: z.string().optional(),
    defers_to: stringOrList.default([]),
    noise_when_followed_by: stringOrList.default([]),
    followed_within: z.int().positive().default(10),
    doubt_when_preceded_by: stringOrList.default([]),
    /** Where the wording comes from (tool source file, issue): for the reader, not the engine. */
    source: z.string().optional(),
  })
  .refine((s) => (s.pattern === undefined) !== (s.patterns === undefined), {
    message: "give either pattern or patterns (a non-empty list)",
    path: ["patterns"],
  });
const fileSchema = z.strictObject({
  version: z.literal(1).optional(),
  steps: z.array(linePatternSchema).default([]),
  markers: z.array(linePatternSchema).min(1, "at least one failure marker is needed"),
  success: z.array(linePatternSchema).default([]),
  passed: z.array(linePatternSchema).default([]),
  job_end: z.array(linePatternSchema).default([]),
  errors: z.array(linePatternSchema).default([]),
  signatures: z.array(signatureSchema).min(1, "expected a non-empty list"),
});
type SignatureEntry = z.infer<typeof signatureSchema>;

/** A key path as the config's errors write it, with the signature's id: `signatures[12] (id H13).patterns[1]`. */
function where(doc: unknown, path: readonly PropertyKey[]): string {
  const text = formatPath(path);
  const list = (doc as { signatures?: unknown } | null)?.signatures;
  if (path[0] !== "signatures" || typeof path[1] !== "number" || !Array.isArray(list)) return text;
  const id = (list[path[1]] as { id?: unknown } | undefined)?.id;
  if (typeof id !== "string") return text;
  const head = `signatures[${path[1]}]`;
  return `${head} (id ${id})${text.slice(head.length)}`;
}

function compile(source: string, flags: string, path: PropertyKey[], problems: Array<[PropertyKey[], string]>): RegExp | null {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    problems.push([path, `invalid regular expression /${source}/: ${(err as Error).message}`]);
    return null;
  }
}

export function parseSignatures(text: string, file = "<signatures>"): Signatures {
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (err) {
    throw new SignaturesError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new SignaturesError(file, ["expected a mapping with steps, markers, success and signatures"]);
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    throw new SignaturesError(
      file,
      parsed.error.issues.map((i) => {
        const line = formatIssue(i);
        const at = formatPath(i.path);
        return line.startsWith(at) ? `${where(doc, i.path)}${line.slice(at.length)}` : line;
      }),
    );
  }
  const d = parsed.data;
  const problems: Array<[PropertyKey[], string]> = [];
  const lines = (key: "steps" | "markers" | "success" | "passed" | "job_end" | "errors"): LinePattern[] =>
    d[key].flatMap((e, i) => {
      const regex = compile(e.pattern, e.flags ?? "", [key, i, "pattern"], problems);
      return regex ? [{ id: e.id ?? `${key}-${i}`, regex, system: e.system ?? null }] : [];
    });
  const steps = lines("steps");
  const markers = lines("markers");
  const success = lines("success");
  const passed = lines("passed");
  const jobEnd = lines("job_end");
  const errors = lines("errors");

  const signatures: Signature[] = [];
  const byId = new Map<string, Signature>();
  d.signatures.forEach((e: SignatureEntry, i) => {
    if (byId.has(e.id)) problems.push([["signatures", i, "id"], `duplicate id ${e.id}`]);
    const flags = e.flags ?? "";
    const raw = e.patterns ?? (e.pattern !== undefined ? [e.pattern] : []);
    const patterns: SignaturePattern[] = raw.flatMap((p, j) => {
      const v = typeof p === "string" ? { pattern: p } : p;
      const path = ["signatures", i, e.patterns ? "patterns" : "pattern", ...(e.patterns ? [j] : [])];
      const regex = compile(v.pattern, flags, typeof p === "string" ? path : [...path, "pattern"], problems);
      return regex ? [{ regex, category: v.category ?? e.category, advice: v.advice ?? e.advice }] : [];
    });
    const noiseWhenFollowedBy = e.noise_when_followed_by.flatMap((src, j) => {
      const regex = compile(src, "", ["signatures", i, "noise_when_followed_by", j], problems);
      return regex ? [regex] : [];
    });
    if (byId.has(e.id)) return;
    const sig: Signature = {
      id: e.id,
      category: e.category,
      title: e.title,
      family: e.family ?? null,
      patterns,
      advice: e.advice.trim(),
      confidence: e.confidence,
      defersTo: e.defers_to,
      noiseWhenFollowedBy,
      followedWithin: e.followed_within,
      doubtWhenPrecededBy: e.doubt_when_preceded_by,
    };
    signatures.push(sig);
    byId.set(e.id, sig);
  });
  d.signatures.forEach((e, i) => {
    for (const key of ["defers_to", "doubt_when_preceded_by"] as const)
      e[key].forEach((target, j) => {
        if (!byId.has(target)) problems.push([["signatures", i, key, j], `names unknown id ${target}`]);
      });
  });
  if (problems.length > 0)
    throw new SignaturesError(
      file,
      problems.map(([path, msg]) => `${where(doc, path)}: ${msg}`),
    );
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
