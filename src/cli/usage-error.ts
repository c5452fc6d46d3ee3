/** Bad command-line usage: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The bot cannot start for a reason outside the config's syntax (a busy port, an unwritable data directory): one line, no stack, exit 1. */
export class StartError extends Error {
  override name = "StartError";
}
