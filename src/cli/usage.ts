// Each subcommand's usage line, apart from its code: `binderbot --help` and `binderbot <sub> --help`
// print them without loading the subcommand (and with it the chat libraries).
export const RUN_USAGE = "usage: binderbot run [--config FILE]";
export const ASK_USAGE = "usage: binderbot ask [--config FILE] [--as PLATFORM:USERID] [--json] [--follow] [TEXT ...]";
export const CHECK_CONFIG_USAGE = "usage: binderbot check-config [FILE | --config FILE]";
export const DOCS_COMMANDS_USAGE = "usage: binderbot docs-commands";
export const DIAGNOSE_USAGE = "binderbot diagnose FILE... [--json] [--signatures FILE]";
