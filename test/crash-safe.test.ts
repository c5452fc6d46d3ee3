import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeEvent, FakeHomeserver } from "./fakes/matrix-homeserver.ts";
import { FakeSlack } from "./fakes/slack.ts";
import { chartBotYaml, slackAdaptersYaml } from "./helpers/app.ts";
import { type BotProcess, runBot } from "./helpers/bot-process.ts";

// No question is lost across a crash or a shutdown: the real `binderbot run` process on the sqlite
// store, killed (-9) or stopped (SIGTERM) while an answer hangs on GitHub, then started again.

/** A GitHub API that holds every request until told to answer (then: 404 for everything). */
class HungGitHub {
  readonly #server: Server;
  readonly #held: ServerResponse[] = [];
  #answering = false;
  #waiters: Array<() => void> = [];
  requests = 0;
  url = "";

  constructor() {
    this.#server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      this.requests++;
      for (const w of this.#waiters.splice(0)) w();
      if (this.#answering) this.#notFound(res);
      else this.#held.push(res);
    });
  }
  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }
  /** Resolves once a request has arrived (the bot is in the middle of an answer). */
  requested(): Promise<void> {
    return this.requests > 0 ? Promise.resolve() : new Promise((r) => this.#waiters.push(r));
  }
  answer(): void {
    this.#answering = true;
    for (const res of this.#held.splice(0)) this.#notFound(res);
  }
  #notFound(res: ServerResponse): void {
    if (res.destroyed) return;
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found", status: "404" }));
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

const BOT = "@binderbot:fake.local";
const ALICE = "@alice:fake.local";
let dir: string;
let github: HungGitHub;
const bots: BotProcess[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "binderbot-crash-"));
  github = await new HungGitHub().listen();
});
afterEach(async () => {
  for (const b of bots.splice(0)) b.kill();
  await github.close();
  rmSync(dir, { recursive: true, force: true });
});

function baseYaml(extra: string): string {
  return `${chartBotYaml({ githubUrl: github.url }).replace("store: memory", "store: sqlite")}
dataDir: ${dir}/data
log: { level: info, format: json }
shutdownGraceSeconds: 1
${extra}`;
}

function start(yaml: string, env: Record<string, string>): BotProcess {
  const bot = runBot(dir, yaml, env);
  bots.push(bot);
  return bot;
}

describe("Matrix: no question lost", () => {
  let hs: FakeHomeserver;
  beforeEach(async () => {
    hs = new FakeHomeserver();
    await hs.listen();
  });
  afterEach(() => hs.close());

  const matrixYaml = () =>
    baseYaml(`adapters:
  matrix:
    homeserver: ${hs.url}
    userId: "${BOT}"
    accessToken: "\${MATRIX_TOKEN}"
    rooms: ["#ops:fake.local"]
`);
  const repliesTo = (room: string, eventId: string) =>
    hs
      .events(room, BOT)
      .filter(
        (e: FakeEvent) =>
          (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]?.event_id ===
          eventId,
      );
  const replyTo = (eventId: string) =>
    hs.nextSent(
      (e) =>
        (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]?.event_id ===
        eventId,
    );

  function setup() {
    const token = hs.addUser(BOT);
    hs.addUser(ALICE);
    const room = hs.createRoom({ creator: ALICE, alias: "#ops:fake.local" });
    hs.createRoom({ creator: ALICE, members: [] });
    hs.join(room, "@carol:fake.local");
    return { token, room };
  }

  /** GitHub answers again, the bot is started anew: `q` is answered, and only once (a later question too). */
  async function answeredOnceAfterRestart(token: string, room: string, q: string): Promise<void> {
    github.answer();
    const answered = replyTo(q);
    const second = start(matrixYaml(), { MATRIX_TOKEN: token });
    await answered;
    const q2 = hs.say(room, ALICE, "!binder whoami");
    await replyTo(q2);
    expect(repliesTo(room, q)).toHaveLength(1);
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }

  it("kill -9 between the claim and the reply, then a restart: the question is answered exactly once", async () => {
    const { token, room } = setup();
    const first = start(matrixYaml(), { MATRIX_TOKEN: token });
    await first.logged((l) => l.includes("adapter started"));
    const q = hs.say(room, ALICE, "!binder why");
    await github.requested(); // claimed, and the answer hangs on GitHub
    first.proc.kill("SIGKILL");
    await first.exited;

    await answeredOnceAfterRestart(token, room, q);
  }, 90_000);

  it("SIGTERM with GitHub hung: exits within the grace period, and the restarted bot answers the question once", async () => {
    const { token, room } = setup();
    const first = start(matrixYaml(), { MATRIX_TOKEN: token });
    await first.logged((l) => l.includes("adapter started"));
    const q = hs.say(room, ALICE, "!binder why");
    await github.requested();
    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain("answers still in progress are abandoned");
    expect(repliesTo(room, q)).toHaveLength(0);

    await answeredOnceAfterRestart(token, room, q);
  }, 90_000);
});

describe("Slack: no question lost", () => {
  let fake: FakeSlack;
  beforeEach(async () => {
    fake = await new FakeSlack().start();
  });
  afterEach(() => fake.stop());

  const slackYaml = () => baseYaml(slackAdaptersYaml(fake.apiUrl));

  it("kill -9 between the claim and the reply, then Slack's redelivery to the restarted bot: answered exactly once", async () => {
    const env = { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.appToken };
    const first = start(slackYaml(), env);
    await first.logged((l) => l.includes("adapter started"));
    const event = fake.message("!binder why", { user: "UCAROL" });
    await fake.sendEvent(event, { eventId: "Ev42" });
    await github.requested();
    first.proc.kill("SIGKILL");
    await first.exited;

    github.answer();
    const connected = fake.nextConnection();
    const second = start(slackYaml(), env);
    await second.logged((l) => l.includes("adapter started"));
    await connected;
    await fake.sendEvent(event, { eventId: "Ev42", retryAttempt: 1 });
    const answer = await fake.waitForPost((p) => p.channel === "C0001");
    expect(answer.text).toContain("GitHub");
    // Delivered once more (another retry): already answered, so silence; a new question is answered.
    await fake.sendEvent(event, { eventId: "Ev42", retryAttempt: 2 });
    await fake.sendEvent(fake.message("!binder whoami", { user: "UDAN" }), { eventId: "Ev43" });
    await fake.waitForPost((p) => p.text.includes("UDAN"));
    expect(fake.posts.filter((p) => p.text === answer.text)).toHaveLength(1);
    expect(fake.posts).toHaveLength(2);
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 90_000);
});
