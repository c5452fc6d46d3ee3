/**
 * `${NAME}` and `${NAME:-default}` in string values are replaced from the environment; `$${` is a
 * literal `${`. A value that is exactly one unset `${NAME}` is dropped (an optional secret left out);
 * an unset variable inside a longer string is an error.
 */
export interface Interpolated {
  value: unknown;
  errors: Array<{ path: (string | number)[]; message: string }>;
  /** Values left out because they were exactly one unset `${NAME}`: path → NAME. */
  unset: Array<{ path: (string | number)[]; name: string }>;
}

const VAR = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(raw: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const errors: Interpolated["errors"] = [];
  const unset: Interpolated["unset"] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === "string") {
      const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
      if (whole && !env[whole[1] as string]) {
        unset.push({ path, name: whole[1] as string });
        return undefined;
      }
      return v.replace(VAR, (m, name: string | undefined, def: string | undefined) => {
        if (name === undefined) return "${";
        const val = env[name];
        if (val !== undefined && val !== "") return val;
        if (def !== undefined) return def;
        errors.push({ path, message: `environment variable ${name} is not set` });
        return m;
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x, [...path, k]);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    return v;
  };
  return { value: walk(raw, []), errors, unset };
}
