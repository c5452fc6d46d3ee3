import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MatrixAdapter } from "../adapters/matrix/matrix.ts";
import { ShellAdapter } from "../adapters/shell/shell.ts";
import { SlackAdapter } from "../adapters/slack/slack.ts";
import type { App } from "../src/app.ts";
import { silentLogger } from "../src/log.ts";
import { type FakeGitHub, type FakeRun, startFakeGitHub } from "./fakes/github.ts";
import { type FakeEvent, FakeHomeserver } from "./fakes/matrix-homeserver.ts";
import { FakeSlack } from "./fakes/slack.ts";
import { chartBotYaml, testApp } from "./helpers/app.ts";
import { DEPLOY, failedRun, LEGITIMATE, SPURIOUS } from "./helpers/retry.ts";

/**
 * `retry` through each real adapter: the answer links the new attempt, and the follow-up (the re-run
 * failed again, with why's verdict) comes later in the asker's thread.
 */
const ACCESS = `access:\n  roles:\n    operators: ["slack:UALICE", "matrix:@alice:fake.local", "shell:local"]\n`;

let gh: FakeGitHub;
let app: App;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.setRepo(DEPLOY);
  // The follower looks again at once (no waiting): the fake ends the re-run on the second look.
  app = await testApp(`${chartBotYaml({ githubUrl: gh.url })}${ACCESS}`, { delay: () => Promise.resolve() });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await app.close();
  await gh.close();
});

/** A spurious failed run whose re-run will fail again, legitimately this time. */
function runThatFailsAgain(): FakeRun {
  const run = failedRun(gh, new Date(), SPURIOUS);
  gh.addJob(run.id, { name: "deploy (staging)", run_attempt: 2, conclusion: "failure", log: LEGITIMATE });
  gh.endRerunAs(run.id, "failure", 1);
  return run;
}

describe("retry's follow-up in the asker's thread", () => {
  it("Slack: the answer and then 'failed again … legitimate' in the same thread", async () => {
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
    const run = runThatFailsAgain();
    const root = fake.nextTs();
    await fake.sendEvent(fake.message("!binder retry", { thread_ts: root }));
    const follow = await fake.waitForPost((p) => p.text.includes("failed again"));
    const [answer] = fake.posts;
    expect(answer?.text).toContain(`actions/runs/${run.id}`);
    expect(answer?.thread_ts).toBe(root);
    expect(follow.thread_ts).toBe(root);
    expect(follow.text).toContain("legitimate");
    expect(gh.reruns.map((r) => r.runId)).toEqual([run.id]);
  });

  it("Matrix: the answer and then the follow-up notice in the thread", async () => {
    const hs = new FakeHomeserver();
    await hs.listen();
    cleanups.push(() => hs.close());
    const BOT = "@binderbot:fake.local";
    const ALICE = "@alice:fake.local";
    const token = hs.addUser(BOT);
    hs.addUser(ALICE);
    const room = hs.createRoom({ creator: ALICE, alias: "#ops:fake.local", name: "ops" });
    const matrix = new MatrixAdapter({
      homeserver: hs.url,
      accessToken: token,
      rooms: ["#ops:fake.local"],
      store: app.services.store,
      log: silentLogger(),
      backoff: { baseMs: 5, maxMs: 20 },
    });
    cleanups.push(() => matrix.stop());
    await matrix.start(app.bot.handle.bind(app.bot));
    const run = runThatFailsAgain();
    const root = hs.say(room, ALICE, "deploy is red");
    const followed = hs.nextSent((e) => body(e).includes("failed again"));
    hs.say(room, ALICE, "!binder retry", { thread: root });
    const follow = await followed;
    const [answer] = hs.events(room, BOT).filter((e) => e.type === "m.room.message");
    expect(body(answer!)).toContain(`actions/runs/${run.id}`);
    expect(follow.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
    expect(body(follow)).toContain("legitimate");
  });

  it("terminal: the answer, then the follow-up printed after it", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (d: Buffer) => {
      printed += d.toString();
    });
    const shell = new ShellAdapter({ input, output, interactive: false });
    await shell.start(app.bot.handle.bind(app.bot));
    const run = runThatFailsAgain();
    input.end("!binder retry\n");
    await shell.closed;
    await app.bot.idle();
    const answerAt = printed.indexOf(`actions/runs/${run.id}`);
    const followAt = printed.indexOf("failed again");
    expect(answerAt).toBeGreaterThanOrEqual(0);
    expect(followAt).toBeGreaterThan(answerAt);
    expect(printed.slice(followAt)).toContain("legitimate");
  });
});

function body(e: FakeEvent): string {
  return typeof e.content.body === "string" ? e.content.body : "";
}
