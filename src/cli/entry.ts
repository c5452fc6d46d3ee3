import { main } from "./main.ts";

// The process entry point: bin/binderbot.js runs the compiled copy (dist/src/cli/entry.js),
// `npm run dev -- …` runs this source through tsx.
const code = await main(process.argv.slice(2));
// Exit explicitly once the command is done: libraries may leave timers behind after a clean stop
// (matrix-js-sdk arms one per /sync and never clears it, matrix-org/matrix-js-sdk#2472), and a
// stopped bot must not linger until a pod's grace period kills it. stdout/stderr writes to pipes,
// files and terminals are synchronous on Linux, so nothing written is lost.
process.exit(code);
