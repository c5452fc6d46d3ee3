import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkSignature } from "../adapters/slack/receiver.ts";
import { renderSlack } from "../adapters/slack/render.ts";
import { SlackAdapter, SlackStartError } from "../adapters/slack/slack.ts";
import type { App } from "../src/app.ts";
import { HttpServer } from "../src/http/server.ts";
import { Metrics } from "../src/metrics.ts";
import { FakeSlack } from "./fakes/slack.ts";
import { testApp } from "./helpers/app.ts";
import { silentLogger } from "./helpers/log.ts";

let fake: FakeSlack;
let app: App;
let http: HttpServer;
let metrics: Metrics;
let adapter: SlackAdapter;
let url: string;
let drops: Array<[string, string]>;

function dropped(why: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (drops.filter(([w]) => w === why).length >= n ? resolve() : setImmediate(check));
    check();
  });
}

beforeEach(async () => {
  fake = await new FakeSlack().start();
  app = await testApp();
  metrics = new Metrics();
  http = new HttpServer({ port: 0, host: "127.0.0.1", metrics, log: silentLogger() });
  drops = [];
  adapter = new SlackAdapter({
    config: { enabled: true, mode: "http", botToken: fake.botToken, signingSecret: fake.signingSecret, apiUrl: fake.apiUrl },
    log: silentLogger(),
    store: app.services.store,
    http,
    metrics,
    onDrop: (why, id) => drops.push([why, id]),
  });
  http.addReadiness("slack", () => adapter.status());
  const port = await http.start();
  url = `http://127.0.0.1:${port}/slack/events`;
  await adapter.start(app.bot.handle.bind(app.bot));
});
afterEach(async () => {
  await adapter.stop();
  await http.stop();
  await fake.stop();
  await app.close();
});

describe("Slack adapter, HTTP Events API on the bot's server", () => {
  it("a signed event is acked with 200 and answered in the right channel and thread", async () => {
    const root = fake.nextTs();
    const reply = await app.bot.handle({
      platform: "slack",
      room: "C0003",
      userId: "UALICE",
      text: "!binder whoami",
      eventId: "x",
    });
    const res = await fake.postSignedEvent(
      url,
      fake.eventBody(fake.message("!binder whoami", { channel: "C0003", thread_ts: root })),
    );
    expect(res.status).toBe(200);
    const post = await fake.waitForPost();
    expect(post).toMatchObject({ channel: "C0003", thread_ts: root, text: renderSlack(reply!).text });
    const ready = await fetch(url.replace("/slack/events", "/readyz"));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      adapters: { slack: { connected: true, detail: "http: listening" } },
    });
  });

  it("answers Slack's url_verification challenge", async () => {
    const res = await fake.postSignedEvent(url, { type: "url_verification", challenge: "ch4ll3nge", token: "t" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: "ch4ll3nge" });
  });

  it("rejects a bad signature, a wrong secret and an old timestamp with 401, and answers none of them", async () => {
    const body = fake.eventBody(fake.message("!binder help"));
    const bad = await fake.postSignedEvent(url, body, { signature: `v0=${"0".repeat(64)}` });
    const wrongSecret = await fake.postSignedEvent(url, body, { secret: "not-the-secret" });
    const old = await fake.postSignedEvent(url, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const unsigned = await fetch(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    expect([bad.status, wrongSecret.status, old.status, unsigned.status]).toEqual([401, 401, 401, 401]);
    expect((await metrics.expose()).body).toContain('binderbot_errors_total{platform="slack",kind="signature"} 4');
    // The same event, properly signed, is then answered: nothing was half-processed by the refusals.
    expect((await fake.postSignedEvent(url, body)).status).toBe(200);
    await fake.waitForPost();
    expect(fake.posts).toHaveLength(1);
  });

  it("a signed but malformed body (null, an array, an event of null) gets 400, not 500, and the bot keeps answering", async () => {
    const signedPost = (text: string) => {
      const ts = Math.floor(Date.now() / 1000);
      return fetch(url, {
        method: "POST",
        body: text,
        headers: {
          "content-type": "application/json",
          "x-slack-request-timestamp": String(ts),
          "x-slack-signature": fake.sign(text, ts),
        },
      });
    };
    const statuses = [];
    for (const text of ["null", "[]", '"x"', '{"type":"event_callback","event":null}', '{"type":"event_callback"}'])
      statuses.push((await signedPost(text)).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect((await metrics.expose()).body).not.toContain('kind="handler"');
    expect((await fake.postSignedEvent(url, fake.eventBody(fake.message("!binder help")))).status).toBe(200);
    await fake.waitForPost();
  });

  it("Slack's retries of one event (x-slack-retry-num, same event_id) are answered once", async () => {
    const body = fake.eventBody(fake.message("!binder help"), "EvRETRY");
    expect((await fake.postSignedEvent(url, body)).status).toBe(200);
    expect((await fake.postSignedEvent(url, body, { retryNum: 1 })).status).toBe(200);
    expect((await fake.postSignedEvent(url, body, { retryNum: 2 })).status).toBe(200);
    await fake.waitForPost();
    await dropped("duplicate", 2);
    expect(fake.posts).toHaveLength(1);
  });

  it("acks before the work is done (a slow answer does not delay the 200)", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await adapter.stop();
    const slow = new SlackAdapter({
      config: { enabled: true, mode: "http", botToken: fake.botToken, signingSecret: fake.signingSecret, apiUrl: fake.apiUrl },
      log: silentLogger(),
      http,
    });
    adapter = slow;
    await slow.start(async (msg) => {
      await gate;
      return app.bot.handle(msg);
    });
    const res = await fake.postSignedEvent(url, fake.eventBody(fake.message("!binder help")));
    expect(res.status).toBe(200);
    expect(fake.posts).toHaveLength(0);
    release();
    await fake.waitForPost();
  });

  it("http mode without the bot's HTTP server is a clear start error", async () => {
    const a = new SlackAdapter({
      config: { enabled: true, mode: "http", botToken: fake.botToken, signingSecret: "s", apiUrl: fake.apiUrl },
      log: silentLogger(),
    });
    const err = await a.start(async () => null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackStartError);
    expect((err as Error).message).toMatch(/set http\.port/);
  });
});

describe("checkSignature", () => {
  const body = '{"a":1}';
  const now = 1_700_000_000_000;
  const ts = String(now / 1000);
  const fake = new FakeSlack({ signingSecret: "sekrit" });
  it("accepts Slack's v0 signature within five minutes, either side", () => {
    expect(checkSignature("sekrit", body, ts, fake.sign(body, now / 1000), now)).toBeNull();
    const future = now / 1000 + 299;
    expect(checkSignature("sekrit", body, String(future), fake.sign(body, future), now)).toBeNull();
  });
  it("refuses tampering, staleness, future timestamps and other versions", () => {
    expect(checkSignature("sekrit", '{"a":2}', ts, fake.sign(body, now / 1000), now)).toBe("signature mismatch");
    const old = now / 1000 - 301;
    expect(checkSignature("sekrit", body, String(old), fake.sign(body, old), now)).toBe("stale timestamp");
    const future = now / 1000 + 301;
    expect(checkSignature("sekrit", body, String(future), fake.sign(body, future), now)).toBe("stale timestamp");
    expect(checkSignature("sekrit", body, ts, fake.sign(body, now / 1000).replace("v0=", "v1="), now)).toBe(
      "unknown signature version",
    );
    expect(checkSignature("sekrit", body, undefined, "v0=ab", now)).toBe("missing signature headers");
    expect(checkSignature("sekrit", body, ts, "v0=abcd", now)).toBe("signature mismatch");
  });
});
