import { PassThrough } from "node:stream";
import { MatrixAdapter } from "../../adapters/matrix/matrix.ts";
import { ShellAdapter } from "../../adapters/shell/shell.ts";
import { SlackAdapter } from "../../adapters/slack/slack.ts";
import type { App } from "../../src/app.ts";
import { type FakeEvent, FakeHomeserver } from "../fakes/matrix-homeserver.ts";
import { FakeSlack } from "../fakes/slack.ts";
import { silentLogger } from "./log.ts";

/** What a test started; `stop` ends it all (adapter first, then the fake). */
type Cleanup = () => Promise<void>;

/** A fake Slack and the real Slack adapter (Socket Mode) on it, answering through `app`. */
export async function slackBot(app: App, cleanups: Cleanup[]): Promise<FakeSlack> {
  const fake = await new FakeSlack().start();
  cleanups.push(() => fake.stop());
  const slack = new SlackAdapter({
    config: { enabled: true, mode: "socket", botToken: fake.botToken, appToken: fake.appToken, apiUrl: fake.apiUrl },
    log: silentLogger(),
    store: app.services.store,
    watchdog: false,
  });
  cleanups.push(() => slack.stop());
  await slack.start(app.bot.handle.bind(app.bot));
  return fake;
}

export const MATRIX_BOT = "@binderbot:fake.local";
export const MATRIX_ALICE = "@alice:fake.local";

/** A fake homeserver with room #ops (Alice in it) and the real Matrix adapter on it, answering through `app`. */
export async function matrixBot(app: App, cleanups: Cleanup[]): Promise<{ hs: FakeHomeserver; room: string }> {
  const hs = new FakeHomeserver();
  await hs.listen();
  cleanups.push(() => hs.close());
  const token = hs.addUser(MATRIX_BOT);
  hs.addUser(MATRIX_ALICE);
  const room = hs.createRoom({ creator: MATRIX_ALICE, alias: "#ops:fake.local", name: "ops" });
  const matrix = new MatrixAdapter({
    homeserver: hs.url,
    accessToken: token,
    rooms: ["#ops:fake.local"],
    store: app.services.store,
    log: silentLogger(),
    backoff: { baseMs: 5, maxMs: 20 },
    repeatWindowMs: 0,
  });
  cleanups.push(() => matrix.stop());
  await matrix.start(app.bot.handle.bind(app.bot));
  return { hs, room };
}

/** The plain-text body of a Matrix event ("" when it has none). */
export function body(e: FakeEvent): string {
  return typeof e.content.body === "string" ? e.content.body : "";
}

/** The terminal adapter on in-memory streams: `input` to type into, `printed()` for all it wrote. */
export async function shellBot(
  app: App,
): Promise<{ input: PassThrough; shell: ShellAdapter; printed: () => string; onPrint: (f: () => void) => void }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = "";
  let listener: (() => void) | null = null;
  output.on("data", (d: Buffer) => {
    text += d.toString();
    listener?.();
  });
  const shell = new ShellAdapter({ input, output, interactive: false });
  await shell.start(app.bot.handle.bind(app.bot));
  return { input, shell, printed: () => text, onPrint: (f) => (listener = f) };
}
