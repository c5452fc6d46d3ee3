/**
 * How long calls to live sources take (GitHub, the chart index, git, CI logs), reported to whichever
 * sink is installed. Sources import this module, never src/metrics.ts, so a one-shot `ask` does not
 * load prom-client: `run` loads src/metrics.ts, which installs the process-wide Prometheus metrics
 * as the sink. Without a sink, timings are dropped.
 */
export interface SourceTimingSink {
  observeSource(name: string, seconds: number): void;
}

let sink: SourceTimingSink | null = null;

/** Where source timings go from now on (null: nowhere). */
export function setSourceTimingSink(s: SourceTimingSink | null): void {
  sink = s;
}

/** Times `fn` as a call to source `name` (recorded whether it resolves or rejects). */
export async function timeSource<T>(name: string, fn: () => Promise<T>, m?: SourceTimingSink): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    const seconds = (performance.now() - started) / 1000;
    (m ?? sink)?.observeSource(name, seconds);
  }
}

/** A fetch whose every request is timed as a call to source `name`. */
export function timedFetch(name: string, f: typeof fetch = fetch, m?: SourceTimingSink): typeof fetch {
  return (input, init) => timeSource(name, () => f(input, init), m);
}
