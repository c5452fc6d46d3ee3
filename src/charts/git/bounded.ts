const MAX_CACHE = 5000;

/** Caches `v` under `k` in `m`, dropping the oldest entry when `m` holds `max` entries already. */
export function remember<K, V>(m: Map<K, V>, k: K, v: V, max = MAX_CACHE): V {
  if (m.size >= max && !m.has(k)) m.delete(m.keys().next().value as K);
  m.set(k, v);
  return v;
}
