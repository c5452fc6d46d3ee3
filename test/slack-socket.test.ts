import { once } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderSlack } from "../adapters/slack/render.ts";
import { SlackAdapter, type SlackAdapterOptions, SlackStartError } from "../adapters/slack/slack.ts";
import type { App } from "../src/app.ts";
import type { Message } from "../src/core/message.ts";
import { countingHandler, Metrics } from "../src/metrics.ts";
import { FakeSlack } from "./fakes/slack.ts";
import { testApp } from "./helpers/app.ts";
import { silentLogger } from "./helpers/log.ts";
import { ManualTimers } from "./helpers/timers.ts";

let fake: FakeSlack;
let app: App;
const adapters: SlackAdapter[] = [];
let drops: Array<[string, string]> = [];

beforeEach(async () => {
  fake = await new FakeSlack().start();
  app = await testApp();
  drops = [];
});
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.stop()));
  await fake.stop();
  await app.close();
});

function makeAdapter(over: Partial<SlackAdapterOptions> = {}): SlackAdapter {
  const a = new SlackAdapter({
    config: { enabled: true, mode: "socket", botToken: fake.botToken, appToken: fake.appToken, apiUrl: fake.apiUrl },
    log: silentLogger(),
    store: app.services.store,
    clientPingTimeoutMs: 300,
    watchdog: false,
    retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 50 },
    onDrop: (why, id) => drops.push([why, id]),
    ...over,
  });
  adapters.push(a);
  return a;
}

async function started(over: Partial<SlackAdapterOptions> = {}): Promise<SlackAdapter> {
  const a = makeAdapter(over);
  await a.start(app.bot.handle.bind(app.bot));
  return a;
}

/** What the bot itself says to `text` from UALICE in C0001, rendered for Slack: the expected post. */
async function expected(text: string, extra: Partial<Message> = {}) {
  const reply = await app.bot.handle({ platform: "slack", room: "C0001", userId: "UALICE", text, eventId: "x", ...extra });
  if (!reply) throw new Error(`the bot said nothing to ${text}`);
  return renderSlack(reply);
}

function dropped(why: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (drops.filter(([w]) => w === why).length >= n ? resolve() : setImmediate(check));
    check();
  });
}

describe("Slack adapter, Socket Mode, against a fake Slack", () => {
  it("user text echoed in a reply never pings the room: <!channel>, <!here>, <!everyone>, @channel, @here", async () => {
    await started();
    const hostile = ["<!channel>", "<!here>", "<!everyone>", "@channel", "@here", "@everyone", "<!subteam^S1|@ops>"];
    for (const [i, word] of hostile.entries()) {
      const from = fake.posts.length;
      // An unknown command: the answer quotes it. One user each, so flood control stays out of it.
      await fake.sendEvent(fake.message(`!binder ${word}`, { user: `UHOSTILE${i}` }));
      const post = await fake.waitForPost(() => true, from);
      const all = JSON.stringify([post.text, post.blocks]);
      expect(all, word).not.toMatch(/<!(?:channel|here|everyone|subteam)/);
      expect(all, word).not.toMatch(/@(?:channel|here|everyone)\b/);
      for (const b of (post.blocks ?? []) as Array<{ text?: { verbatim?: boolean }; fields?: Array<{ verbatim?: boolean }> }>)
        for (const t of [b.text, ...(b.fields ?? [])].filter(Boolean)) expect(t?.verbatim).toBe(true);
    }
  });

  it("answers `!binder help` in the channel it was asked in, as mrkdwn and Block Kit", async () => {
    const a = await started();
    expect(a.status()).toMatchObject({ connected: true, detail: "socket: connected" });
    expect(a.botUserId).toBe("UBOT");
    const want = await expected("!binder help");
    await fake.sendEvent(fake.message("!binder help"));
    const post = await fake.waitForPost();
    expect(post.channel).toBe("C0001");
    expect(post.thread_ts).toBeUndefined();
    expect(post.text).toBe(want.text);
    expect(post.text).toContain("`!binder whoami`");
    expect(post.blocks).toEqual(want.blocks);
  });

  it("answers a mention `<@UBOT> whoami` in the asker's thread, once although Slack sends message and app_mention", async () => {
    await started();
    const root = fake.nextTs();
    const ev = fake.message("<@UBOT> whoami", { thread_ts: root, user: "UBOB", channel: "C0002" });
    const want = await expected("whoami", { userId: "UBOB", room: "C0002", addressed: true, thread: root });
    await fake.sendEvent({ ...ev, type: "app_mention" });
    await fake.sendEvent(ev);
    const post = await fake.waitForPost();
    expect(post).toMatchObject({ channel: "C0002", thread_ts: root, text: want.text });
    expect(post.text).toContain("UBOB");
    await dropped("duplicate", 1);
    expect(fake.posts).toHaveLength(1);
  });

  it("carries `!binder sha 4e3bafb` to the sha command and back into the thread (source unreachable here: one clear line)", async () => {
    await started();
    const root = fake.nextTs();
    await fake.sendEvent(fake.message("!binder sha 4e3bafb", { thread_ts: root }));
    const post = await fake.waitForPost();
    const want = await expected("!binder sha 4e3bafb", { thread: root });
    expect(post).toMatchObject({ channel: "C0001", thread_ts: root, text: want.text });
    expect(post.text).not.toMatch(/^\s+at /m);
    expect(post.text.length).toBeGreaterThan(0);
  });

  it("ignores chatter that is not addressed to it, bots, and itself", async () => {
    const seen: string[] = [];
    const a = makeAdapter();
    await a.start(async (msg) => {
      seen.push(msg.text);
      return app.bot.handle(msg);
    });
    // Itself: dropped by Bolt's ignoreSelf before our listener; sent first, so long gone when the last answer comes.
    await fake.sendEvent(fake.message("!binder help", { user: "UBOT" }));
    await fake.sendEvent({ ...fake.message("!binder help"), bot_id: "BOTHER" });
    await fake.sendEvent({ ...fake.message("!binder help"), subtype: "message_changed" });
    await dropped("ignored", 2);
    await fake.sendEvent(fake.message("nice weather"));
    await fake.sendEvent(fake.message("!binder whoami"));
    const post = await fake.waitForPost();
    expect(post.text).toContain("UALICE");
    expect(seen).toEqual(["nice weather", "!binder whoami"]);
    expect(fake.posts).toHaveLength(1);
  });

  it("answers a re-delivered event (same event_id) once, also across a restart of the adapter", async () => {
    const a = await started();
    const ev = fake.message("!binder help");
    await fake.sendEvent(ev, { eventId: "EvSAME" });
    await fake.waitForPost();
    await fake.sendEvent(ev, { eventId: "EvSAME", retryAttempt: 1 });
    await dropped("duplicate", 1);
    await a.stop();
    await started(); // same store: a new process would see the same ids
    await fake.sendEvent(ev, { eventId: "EvSAME", retryAttempt: 2 });
    await dropped("duplicate", 2);
    expect(fake.posts).toHaveLength(1);
  });

  it("reconnects after the connection is dropped and answers again; readiness follows", async () => {
    const a = await started();
    const down = once(a.events, "state");
    const back = fake.nextConnection();
    fake.dropConnections();
    expect((await down)[0]).toBe(false);
    expect(a.status().connected).toBe(false);
    await back;
    if (!a.status().connected) await once(a.events, "state");
    expect(a.status().connected).toBe(true);
    expect(fake.connections).toBe(2);
    await fake.sendEvent(fake.message("!binder whoami"));
    expect((await fake.waitForPost()).text).toContain("UALICE");
  });

  it("reconnects when Slack sends `disconnect` (refresh_requested)", async () => {
    await started();
    const back = fake.nextConnection();
    fake.sendDisconnect();
    await back;
    await fake.sendEvent(fake.message("!binder whoami"));
    expect((await fake.waitForPost()).channel).toBe("C0001");
    expect(fake.connections).toBe(2);
  });

  it("watchdog: a connection silent too long is torn down and reopened, then answers", async () => {
    const timers = new ManualTimers(1_000);
    // A long ping timeout keeps the socket-mode client's own pong check out of this test.
    const a = await started({ watchdog: { timeoutMs: 60_000, timers }, clientPingTimeoutMs: 600_000 });
    fake.setSilent(true);
    const back = fake.nextConnection();
    const closed = once(fake, "socket-closed");
    timers.advance(59_000);
    expect(a.restarts).toBe(0);
    timers.advance(2_000);
    expect(a.restarts).toBe(1);
    await closed;
    await back;
    fake.setSilent(false);
    expect(fake.openSockets).toBe(1);
    await fake.sendEvent(fake.message("!binder whoami"));
    expect((await fake.waitForPost()).text).toContain("UALICE");
  });

  it("waits out a 429 from chat.postMessage (Retry-After honoured) and then answers", async () => {
    await started();
    fake.rateLimit("chat.postMessage", 1, 1);
    const limited = once(fake, "rate-limited");
    const t0 = performance.now();
    await fake.sendEvent(fake.message("!binder whoami"));
    await limited;
    const post = await fake.waitForPost();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    expect(post.text).toContain("UALICE");
    expect(fake.calls.filter((c) => c === "chat.postMessage")).toHaveLength(2);
  });

  it("send() says something unasked in a room and thread", async () => {
    const a = await started();
    await a.send("C0009", {
      ok: true,
      blocks: [{ type: "paragraph", content: ["deploy <done> & ", { code: "abc" }] }],
      thread: "1.2",
    });
    const post = await fake.waitForPost();
    expect(post).toMatchObject({ channel: "C0009", thread_ts: "1.2", text: "deploy &lt;done&gt; &amp; `abc`" });
  });

  it("counts messages and commands when the handler is wrapped (as run does)", async () => {
    const metrics = new Metrics();
    const a = makeAdapter();
    await a.start(countingHandler(app.bot.handle.bind(app.bot), metrics));
    await fake.sendEvent(fake.message("!binder help"));
    await fake.waitForPost();
    const text = (await metrics.expose()).body;
    expect(text).toContain('binderbot_messages_total{platform="slack"} 1');
    expect(text).toContain('binderbot_commands_total{platform="slack",command="help",outcome="ok"} 1');
  });

  it("a bad bot token fails at start with one clear line and no secret", async () => {
    const a = makeAdapter({
      config: { enabled: true, mode: "socket", botToken: "xoxb-wrong-123", appToken: fake.appToken, apiUrl: fake.apiUrl },
    });
    const err = await a.start(app.bot.handle.bind(app.bot)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackStartError);
    expect((err as Error).message).toMatch(/^Slack refused the bot token \(auth\.test: invalid_auth\)/);
    expect((err as Error).message).not.toContain("xoxb-wrong");
    expect((err as Error).message).not.toContain("\n");
    expect(a.status().connected).toBe(false);
    expect(fake.connections).toBe(0);
  });

  it("a bad app token fails at start clearly (apps.connections.open)", async () => {
    const a = makeAdapter({
      config: { enabled: true, mode: "socket", botToken: fake.botToken, appToken: "xapp-wrong", apiUrl: fake.apiUrl },
    });
    await expect(a.start(app.bot.handle.bind(app.bot))).rejects.toThrow(/^Slack Socket Mode did not start: invalid_auth$/);
  });

  it("socket mode without an app token is a clear start error", async () => {
    const a = makeAdapter({ config: { enabled: true, mode: "socket", botToken: fake.botToken, apiUrl: fake.apiUrl } });
    await expect(a.start(app.bot.handle.bind(app.bot))).rejects.toThrow(/appToken is required in socket mode/);
  });
});
