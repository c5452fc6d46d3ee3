/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("hepl" → "help" is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const up = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (d[i - 2]?.[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return d[a.length]?.[b.length] as number;
}

/** The candidates closest to `word`, best first; empty when nothing is close enough to help. */
export function closest(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase().slice(0, 40);
  const limit = Math.max(1, Math.floor(w.length / 3));
  return candidates
    .map((c) => ({ c, d: c.startsWith(w) && w.length >= 2 ? 0.5 : editDistance(w, c) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c);
}
