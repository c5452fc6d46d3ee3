/**
 * The verdict of the diagnosis engine: the public shape that `!binder why`, the CLI and the store use.
 * Keep it stable: other modules (CI providers, the `why` command) code against it.
 */

export type VerdictKind = "spurious" | "legitimate" | "success" | "unknown";

export interface VerdictSignature {
  id: string;
  category: "spurious" | "legitimate";
  title: string;
  /** Group of related signatures, e.g. "chart-version-missing"; null when the signature has none. */
  family: string | null;
}

export interface Verdict {
  verdict: VerdictKind;
  signature: VerdictSignature | null;
  /** 1-based line number in the ORIGINAL input (lines split on "\n"). */
  line: number | null;
  /** The decisive line, normalised (no timestamp, ANSI codes or "\r" progress). */
  text: string | null;
  /** Failing step / group name when known (GitHub Actions "Run …" group, Travis fold or command). */
  step: string | null;
  advice: string;
  /** 0..1 */
  confidence: number;
  /** Named groups of the decisive pattern, e.g. { chart: "binderhub", version: "0.1.0-4e3bafb" }. */
  captures: Record<string, string>;
  /** For unknown: the last lines before the failure marker (normalised). Empty otherwise. */
  context: string[];
  /** The failure marker that ended the search window (##[error]…, Travis "The command … exited with N."), if any. */
  marker: { line: number; text: string } | null;
}
