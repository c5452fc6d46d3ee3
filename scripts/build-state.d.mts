export const ROOT: string;
export const DIST: string;
export const STAMP: string;
export const SOURCE_DIRS: string[];
export const BUILD_FILES: string[];
export function newestSource(root?: string): { mtimeMs: number; path: string };
export function buildProblem(root?: string): string | null;
