/** Public API of the diagnosis engine (used by `!binder why`, the CLI and the CI providers). */
export { diagnose, diagnoseAsync, diagnoseStream, SLICE_CHARS } from "./engine.ts";
export { loadSignatures, parseSignatures, SignaturesError } from "./signatures.ts";
export type { Verdict, VerdictKind } from "./verdict.ts";
