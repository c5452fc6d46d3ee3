import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { type FakeGitHub, type FakeRun, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, testApp } from "./helpers/app.ts";
import { body, MATRIX_ALICE, MATRIX_BOT, matrixBot, shellBot, slackBot } from "./helpers/chat.ts";
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
    const fake = await slackBot(app, cleanups);
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
    const { hs, room } = await matrixBot(app, cleanups);
    const run = runThatFailsAgain();
    const root = hs.say(room, MATRIX_ALICE, "deploy is red");
    const followed = hs.nextSent((e) => body(e).includes("failed again"));
    hs.say(room, MATRIX_ALICE, "!binder retry", { thread: root });
    const follow = await followed;
    const [answer] = hs.events(room, MATRIX_BOT).filter((e) => e.type === "m.room.message");
    expect(body(answer!)).toContain(`actions/runs/${run.id}`);
    expect(follow.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
    expect(body(follow)).toContain("legitimate");
  });

  it("terminal: the answer, then the follow-up printed after it", async () => {
    const { input, shell, printed: out } = await shellBot(app);
    const run = runThatFailsAgain();
    input.end("!binder retry\n");
    await shell.closed;
    await app.bot.idle();
    const printed = out();
    const answerAt = printed.indexOf(`actions/runs/${run.id}`);
    const followAt = printed.indexOf("failed again");
    expect(answerAt).toBeGreaterThanOrEqual(0);
    expect(followAt).toBeGreaterThan(answerAt);
    expect(printed.slice(followAt)).toContain("legitimate");
  });
});
