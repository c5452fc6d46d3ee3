/** Public API of the diagnosis engine (used by `!binder why`, the CLI and the CI providers). */
export { Diagnoser, diagnose, diagnoseStream } from "./engine.ts";
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
