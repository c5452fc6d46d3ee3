export function build(opts?: { ifStale?: boolean; quiet?: boolean }): number;
