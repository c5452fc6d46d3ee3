const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a config duration: a number of seconds, or "500ms", "30s", "10m", "12h", "1d". */
export function durationMs(d: number | string): number {
  if (typeof d === "number") return d * 1000;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(d.trim());
  if (!m) throw new Error(`'${d}' is not a duration`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
