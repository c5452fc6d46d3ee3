/**
 * A title suffix saying why a test (or a describe block) is skipped on this machine, "" when it runs.
 * The skip reporter (test/helpers/skip-reporter.ts) prints these after the default reporter's summary,
 * which otherwise shows only a count of skipped tests.
 */
export function skipWhy(runs: boolean, why: string): string {
  return runs ? "" : ` [skipped: ${why}]`;
}
