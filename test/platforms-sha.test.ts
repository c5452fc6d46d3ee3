import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { buildAdapters } from "../src/cli/adapters.ts";
import type { Adapter } from "../src/core/adapter.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { type FakeEvent, FakeHomeserver } from "./fakes/matrix-homeserver.ts";
import { FakeSlack, type Post } from "./fakes/slack.ts";
import { chartBotYaml, testApp } from "./helpers/app.ts";
import { incident2018 } from "./helpers/fixtures.ts";
import { TestRepo } from "./helpers/git.ts";

/*
 * Issue #5, end to end on every platform: the 2018-01-04 incident's question asked in chat. One
 * bot, started from one config the way `binderbot run` builds it (buildAdapters → the real Slack,
 * Matrix and Gitter adapters), talks through the real client libraries to fakes on 127.0.0.1;
 * behind it a local binderhub history with the #395 topology, a Helm index that published only the
 * PR commit's chart, and a fake GitHub with PR #395 merged and the deploy repo's older pin. A user
 * asks `!binder sha <merge>` in a thread and the plain question about #395; the answer must come
 * back in that room and thread and name 0.1.0-<PR commit>, never the merge's hash.
 */

const DEPLOY = "jupyterhub/mybinder.org-deploy";
const PUBLISHED_AT = "2018-01-04T15:42:38.776605387Z";
const h = (sha: string) => sha.slice(0, 7);

const SLACK_BOT = "UBOT";
const MATRIX_BOT = "@binderbot:fake.local";
const GITTER_BOT = "@binderbot:gitter.im";
const ALICE = "@alice:fake.local";
const BOB = "@bob:fake.local";
const GITTER_ALICE = "@alice-gh:gitter.im";
const GITTER_BOB = "@bob-gh:gitter.im";

type Relation = { rel_type?: string; event_id?: string; "m.in_reply_to"?: { event_id?: string } };
const relation = (e: FakeEvent) => (e.content["m.relates_to"] ?? {}) as Relation;

describe("`!binder sha` end to end on Slack, Matrix and Gitter: the 2018 incident", () => {
  let repo: TestRepo;
  let c: { base: string; pr: string; merge: string };
  let index: IndexServer;
  let github: FakeGitHub;
  let slack: FakeSlack;
  let matrix: FakeHomeserver;
  let gitter: FakeHomeserver;
  let dataDir: string;
  let app: App;
  let adapters: Adapter[] = [];
  /** What chartpress published for the PR commit: the answer every platform must give. */
  let version: string;
  /** The chart the deploy repo pins before the fix. */
  let older: string;
  const rooms = { ops: "", deploys: "", gitterDeploy: "", gitterBinder: "" };

  beforeAll(async () => {
    repo = TestRepo.create();
    c = incident2018(repo);
    version = `0.1.0-${h(c.pr)}`;
    older = `0.1.0-${h(c.base)}`;
    index = await startIndexServer({
      body: indexYaml({
        binderhub: [
          { version: older, created: "2018-01-03T18:00:00Z" },
          { version, created: PUBLISHED_AT },
        ],
      }),
    });
    github = await startFakeGitHub();
    github.mergePull("jupyterhub/binderhub", 395, c.merge);
    github.setFile(
      DEPLOY,
      "mybinder/Chart.yaml",
      `dependencies:\n  - name: binderhub\n    version: "${older}"\n    repository: https://jupyterhub.github.io/helm-chart\n`,
    );

    slack = await new FakeSlack({ botUserId: SLACK_BOT }).start();

    matrix = new FakeHomeserver();
    await matrix.listen();
    const matrixToken = matrix.addUser(MATRIX_BOT);
    matrix.addUser(ALICE);
    matrix.addUser(BOB);
    rooms.ops = matrix.createRoom({ creator: ALICE, members: [BOB], alias: "#ops:fake.local", name: "ops" });
    rooms.deploys = matrix.createRoom({ creator: ALICE, members: [BOB], alias: "#deploys:fake.local", name: "deploys" });

    gitter = new FakeHomeserver("gitter.im");
    await gitter.listen();
    const gitterToken = gitter.addUser(GITTER_BOT);
    gitter.addUser(GITTER_ALICE);
    gitter.addUser(GITTER_BOB);
    // Three members each: a room of the bot and one person would count as a direct chat.
    rooms.gitterDeploy = gitter.createRoom({
      creator: GITTER_ALICE,
      members: [GITTER_BOB],
      alias: "#jupyterhub_mybinder.org-deploy:gitter.im",
    });
    rooms.gitterBinder = gitter.createRoom({
      creator: GITTER_ALICE,
      members: [GITTER_BOB],
      alias: "#jupyterhub_binder:gitter.im",
    });

    dataDir = mkdtempSync(join(tmpdir(), "binderbot-platforms-"));
    const yaml = `${chartBotYaml({ dataDir, githubUrl: github.url, repoPath: repo.path, indexUrl: index.url })}adapters:
  slack:
    mode: socket
    botToken: "\${SLACK_BOT_TOKEN}"
    appToken: "\${SLACK_APP_TOKEN}"
    apiUrl: ${slack.apiUrl}
  matrix:
    homeserver: ${matrix.url}
    userId: "${MATRIX_BOT}"
    accessToken: "\${MATRIX_TOKEN}"
    rooms: ["#ops:fake.local", "#deploys:fake.local"]
  gitter:
    homeserver: ${gitter.url}
    accessToken: "\${GITTER_MATRIX_TOKEN}"
    rooms: ["gitter.im/jupyterhub/mybinder.org-deploy", "gitter.im/jupyterhub/binder"]
`;
    app = await testApp(yaml, {
      env: {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_APP_TOKEN: slack.appToken,
        MATRIX_TOKEN: matrixToken,
        GITTER_MATRIX_TOKEN: gitterToken,
      },
    });
    adapters = await buildAdapters(app);
    expect(adapters.map((a) => a.platform)).toEqual(["slack", "matrix", "gitter"]);
    for (const a of adapters) await a.start(app.bot.handle.bind(app.bot));
    expect(adapters.map((a) => a.status().connected)).toEqual([true, true, true]);
  }, 60_000);

  afterAll(async () => {
    for (const a of adapters) await a.stop();
    await app?.close();
    await slack?.stop();
    await matrix?.close();
    await gitter?.close();
    await index?.close();
    await github?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    repo?.remove();
  });

  /** What every platform's answer must say, whatever its markup. */
  function expectTheAnswer(text: string): void {
    expect(text).toContain(version);
    expect(text).not.toContain(`0.1.0-${h(c.merge)}`);
    expect(text).toMatch(/published/i);
    expect(text).toContain(PUBLISHED_AT);
    expect(text).toContain(`version: "${version}"`);
    expect(text).toContain(older); // what the deploy repo pins now, read from the fake GitHub
  }

  /** The bot's reply on a Matrix homeserver to the event `ask()` creates (waiting from before it exists). */
  async function matrixReplyTo(hs: FakeHomeserver, ask: () => string): Promise<{ asked: string; reply: FakeEvent }> {
    let asked = "";
    const reply = hs.nextSent((e) => relation(e)["m.in_reply_to"]?.event_id === asked);
    asked = ask();
    return { asked, reply: await reply };
  }

  const botMessages = (hs: FakeHomeserver, room: string, bot: string) =>
    hs.events(room, bot).filter((e) => e.type === "m.room.message");

  /*
   * On Matrix and Gitter the plain question goes to the bot's other room, so each test also shows
   * that an answer lands only in the room it was asked in.
   */

  describe("Slack (Socket Mode, @slack/bolt)", () => {
    let inThread: Post | undefined;

    it("answers `!binder sha <merge>` asked in a thread in that channel's thread, with the PR commit's chart", async () => {
      const from = slack.posts.length;
      const root = slack.nextTs();
      await slack.sendEvent(slack.message(`!binder sha ${h(c.merge)}`, { channel: "C0002", thread_ts: root, user: "UBOB" }));
      inThread = await slack.waitForPost(() => true, from);
      expect(inThread.channel).toBe("C0002");
      expect(inThread.thread_ts).toBe(root);
      expectTheAnswer(inThread.text);
      expect(JSON.stringify(inThread.blocks)).toContain(`version: \\"${version}\\"`);
      expect(slack.posts.slice(from)).toHaveLength(1);
    }, 60_000);

    it("answers `<@UBOT> which sha do I use for #395?` in the channel it was asked in, with the same answer", async () => {
      const from = slack.posts.length;
      await slack.sendEvent(slack.message(`<@${SLACK_BOT}> which sha do I use for #395?`, { channel: "C0001" }));
      const post = await slack.waitForPost(() => true, from);
      expect(post.channel).toBe("C0001");
      expect(post.thread_ts).toBeUndefined();
      expectTheAnswer(post.text);
      expect(post.text).toBe(inThread?.text);
    }, 60_000);
  });

  describe("Matrix (matrix-js-sdk)", () => {
    let inThread: FakeEvent | undefined;

    it("answers `!binder sha <merge>` asked in an m.thread in that room and thread, with the PR commit's chart", async () => {
      const root = matrix.say(rooms.ops, ALICE, "deploy to staging failed, which binderhub should we pin?");
      const { asked, reply } = await matrixReplyTo(matrix, () =>
        matrix.say(rooms.ops, BOB, `!binder sha ${h(c.merge)}`, { thread: root }),
      );
      inThread = reply;
      expect(reply.room_id).toBe(rooms.ops);
      expect(reply.sender).toBe(MATRIX_BOT);
      expect(reply.content.msgtype).toBe("m.notice");
      expect(relation(reply)).toEqual({
        rel_type: "m.thread",
        event_id: root,
        is_falling_back: false,
        "m.in_reply_to": { event_id: asked },
      });
      expectTheAnswer(reply.content.body as string);
      expect(reply.content.formatted_body).toContain(version);
      expect(botMessages(matrix, rooms.deploys, MATRIX_BOT)).toEqual([]);
    }, 60_000);

    it("answers the plain question to a mention pill in the room it was asked in, with the same answer", async () => {
      const pill = `<a href="https://matrix.to/#/${MATRIX_BOT}">binderbot</a>: which sha do I use for #395?`;
      const { asked, reply } = await matrixReplyTo(matrix, () =>
        matrix.say(rooms.deploys, ALICE, "binderbot: which sha do I use for #395?", {
          mentions: [MATRIX_BOT],
          formattedBody: pill,
        }),
      );
      expect(reply.room_id).toBe(rooms.deploys);
      expect(relation(reply)).toEqual({ "m.in_reply_to": { event_id: asked } });
      expectTheAnswer(reply.content.body as string);
      expect(reply.content.body).toBe(inThread?.content.body);
      expect(botMessages(matrix, rooms.ops, MATRIX_BOT)).toEqual([inThread]);
    }, 60_000);
  });

  describe("Gitter (the Matrix adapter's Gitter profile)", () => {
    let inThread: FakeEvent | undefined;

    it("answers `!binder sha <merge>` asked in a thread of gitter.im/jupyterhub/mybinder.org-deploy in that thread", async () => {
      const root = gitter.say(rooms.gitterDeploy, GITTER_ALICE, "Travis errored on the staging deploy");
      const { asked, reply } = await matrixReplyTo(gitter, () =>
        gitter.say(rooms.gitterDeploy, GITTER_BOB, `!binder sha ${h(c.merge)}`, { thread: root }),
      );
      inThread = reply;
      expect(reply.room_id).toBe(rooms.gitterDeploy);
      expect(reply.sender).toBe(GITTER_BOT);
      expect(relation(reply)).toEqual({
        rel_type: "m.thread",
        event_id: root,
        is_falling_back: false,
        "m.in_reply_to": { event_id: asked },
      });
      expectTheAnswer(reply.content.body as string);
      expect(botMessages(gitter, rooms.gitterBinder, GITTER_BOT)).toEqual([]);
    }, 60_000);

    it("answers `@binderbot which sha do I use for #395?` in gitter.im/jupyterhub/binder, with the same answer", async () => {
      const { asked, reply } = await matrixReplyTo(gitter, () =>
        gitter.say(rooms.gitterBinder, GITTER_ALICE, "@binderbot which sha do I use for #395?"),
      );
      expect(reply.room_id).toBe(rooms.gitterBinder);
      expect(relation(reply)).toEqual({ "m.in_reply_to": { event_id: asked } });
      expectTheAnswer(reply.content.body as string);
      expect(reply.content.body).toBe(inThread?.content.body);
      expect(botMessages(gitter, rooms.gitterDeploy, GITTER_BOT)).toEqual([inThread]);
    }, 60_000);
  });
});
