/** Public API of the diagnosis engine (used by `!binder why`, the CLI and the CI providers). */
export { type DiagnoseOptions, Diagnoser, diagnose, diagnoseAsync, diagnoseStream, SLICE_CHARS } from "./engine.ts";
export { normalizeLine } from "./normalize.ts";
export {
  type Category,
  DEFAULT_SIGNATURES,
  loadSignatures,
  parseSignatures,
  type Signature,
  type Signatures,
  SignaturesError,
} from "./signatures.ts";
export type { Verdict, VerdictKind, VerdictSignature } from "./verdict.ts";
