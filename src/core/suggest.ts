/** Damerau-free Levenshtein distance, small strings only (command names). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
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
