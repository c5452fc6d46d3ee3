/**
 * `binderbot diagnose FILE... [--json] [--signatures FILE]`: classify local CI log files.
 *
 * Contract (tests outside this repository rely on it): with --json, one JSON object per file and line,
 *   {"file", "verdict": "spurious"|"legitimate"|"success"|"unknown", "signature": id|null,
 *    "line": 1-based line number in the file|null, "text": the decisive line|null, "advice": str}
 * A file that cannot be read gets a line of its own with verdict "unknown", nulls, and an extra "error"
 * key; the other files are still classified. Exit 0 when every file was classified (whatever the
 * verdicts), 2 when a file could not be read (missing, a directory: the path given was wrong) or for
 * bad usage (no files, unknown option).
 * "-" reads standard input.
 */
import { createReadStream } from "node:fs";
import { diagnoseStream } from "../diagnose/engine.ts";
import { loadSignatures, type Signatures, SignaturesError } from "../diagnose/signatures.ts";
import type { Verdict } from "../diagnose/verdict.ts";
import { DIAGNOSE_USAGE } from "./usage.ts";
import { UsageError } from "./usage-error.ts";

export interface DiagnoseIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface FileResult {
  file: string;
  verdict: Verdict["verdict"];
  signature: string | null;
  line: number | null;
  text: string | null;
  advice: string;
  error?: string;
}

function parseArgs(argv: string[]): { files: string[]; json: boolean; signatures: string | undefined } {
  const files: string[] = [];
  let json = false;
  let signatures: string | undefined;
  let onlyFiles = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyFiles || a === "-" || !a.startsWith("-")) files.push(a);
    else if (a === "--") onlyFiles = true;
    else if (a === "--json") json = true;
    else if (a === "--signatures") {
      signatures = argv[++i];
      if (signatures === undefined) throw new UsageError(`--signatures needs a FILE\nusage: ${DIAGNOSE_USAGE}`);
    } else if (a.startsWith("--signatures=")) signatures = a.slice("--signatures=".length);
    else throw new UsageError(`diagnose: unknown option '${a}'\nusage: ${DIAGNOSE_USAGE}`);
  }
  if (files.length === 0) throw new UsageError(`diagnose: no log files given\nusage: ${DIAGNOSE_USAGE}`);
  return { files, json, signatures };
}

async function classify(file: string, sigs: Signatures, stdin: NodeJS.ReadableStream): Promise<FileResult> {
  try {
    const input = file === "-" ? stdin : createReadStream(file);
    const v = await diagnoseStream(input, sigs);
    return { file, verdict: v.verdict, signature: v.signature?.id ?? null, line: v.line, text: v.text, advice: v.advice };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === "ENOENT" ? "no such file" : e.code === "EISDIR" ? "is a directory" : (e.code ?? e.message);
    return {
      file,
      verdict: "unknown",
      signature: null,
      line: null,
      text: null,
      advice: `Cannot read ${file}: ${reason}.`,
      error: reason,
    };
  }
}

function readable(r: FileResult): string {
  if (r.error) return `${r.file}: error: cannot read (${r.error})`;
  const sig = r.signature ? ` ${r.signature}` : "";
  const where = r.line !== null ? ` at line ${r.line}: ${r.text}` : "";
  return `${r.file}: ${r.verdict}${sig}${where}\n  ${r.advice}`;
}

export async function diagnoseCli(argv: string[], io: DiagnoseIO): Promise<number> {
  const { files, json, signatures } = parseArgs(argv);
  let sigs: Signatures;
  try {
    sigs = loadSignatures(signatures);
  } catch (err) {
    if (err instanceof SignaturesError) throw new UsageError(err.message);
    throw err;
  }
  let failed = 0;
  for (const file of files) {
    const r = await classify(file, sigs, io.stdin);
    if (r.error) {
      failed++;
      io.stderr.write(`binderbot diagnose: cannot read ${file}: ${r.error}\n`);
    }
    io.stdout.write(`${json ? JSON.stringify(r) : readable(r)}\n`);
  }
  return failed > 0 ? 2 : 0;
}
