import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ShellAdapter } from "../adapters/shell/shell.ts";
import type { App } from "../src/app.ts";
import type { Outlet } from "../src/core/adapter.ts";
import { renderPlain } from "../src/core/render.ts";
import type { Reply } from "../src/core/reply.ts";
import { lastCheckKey, type SiteCheck } from "../src/deploy/check.ts";
import { EventStreamParser, testLaunch } from "../src/deploy/launch.ts";
import { type FakeBinderHub, READY_SCRIPT, startFakeBinderHub } from "./fakes/binderhub.ts";
import { chartBotYaml, say, testApp } from "./helpers/app.ts";
import { LAUNCH_SPEC } from "./helpers/deploy.ts";

const FAILED_SCRIPT = [
  { phase: "waiting", message: "Waiting for build to start...\n" },
  { phase: "fetching", message: "Fetching repository...\n" },
  { phase: "building", message: "Step 5/10 : RUN pip install -r requirements.txt\n" },
  { phase: "building", message: "ERROR: No matching distribution found for thinkdsp==9.9\n" },
  { phase: "failed", message: "The command '/bin/sh -c pip install' returned a non-zero code: 1\n" },
];

describe("the build API's event stream", () => {
  let hub: FakeBinderHub;
  beforeAll(async () => {
    hub = await startFakeBinderHub();
  });
  afterAll(async () => {
    await hub.close();
  });

  it("parses events split anywhere, CRLF endings, comments and multi-line data", () => {
    const got: string[] = [];
    const p = new EventStreamParser((d) => got.push(d));
    const text = ':keepalive\r\n\r\ndata: {"phase": "wait\r\ndata: ing"}\r\n\r\nevent: x\ndata: two\n\n';
    for (const ch of text) p.push(ch);
    expect(got).toEqual(['{"phase": "wait\ning"}', "two"]);
  });

  it("follows a launch to ready: each phase once, in order, as it comes", async () => {
    hub.script("gh/o/ready/HEAD", READY_SCRIPT);
    const seen: string[] = [];
    const r = await testLaunch(
      { name: "prod", url: hub.url },
      { repo: "o/ready", ref: "HEAD" },
      { timeoutMs: 60_000, onPhase: (e) => void seen.push(e.phase) },
    );
    expect(r).toMatchObject({ ok: true, outcome: "ready", error: null, url: `${hub.url}/build/gh/o/ready/HEAD` });
    const phases = ["waiting", "fetching", "building", "pushing", "built", "launching", "ready"];
    expect(r.phases.map((p) => p.phase)).toEqual(phases);
    expect(seen).toEqual(phases);
  });

  it("a failed build: outcome failed with BinderHub's message and the last messages", async () => {
    hub.script("gh/o/broken/HEAD", FAILED_SCRIPT);
    const r = await testLaunch({ name: "prod", url: hub.url }, { repo: "o/broken", ref: "HEAD" }, { timeoutMs: 60_000 });
    expect(r).toMatchObject({ ok: false, outcome: "failed" });
    expect(r.error).toContain("returned a non-zero code: 1");
    expect(r.lastMessages.map((m) => m.message)).toContain("ERROR: No matching distribution found for thinkdsp==9.9");
  });

  it("a stream that ends without a final phase, and a site that answers 404, are failures with the reason", async () => {
    hub.script("gh/o/cut/HEAD", [{ phase: "waiting", message: "w" }, { close: true }]);
    const cut = await testLaunch({ name: "p", url: hub.url }, { repo: "o/cut", ref: "HEAD" }, { timeoutMs: 60_000 });
    expect(cut).toMatchObject({ ok: false, outcome: "closed", error: "the event stream ended before the launch was ready" });
    const nf = await testLaunch(
      { name: "p", url: `${hub.url}/nothing-here` },
      { repo: "o/x", ref: "HEAD" },
      { timeoutMs: 60_000 },
    );
    expect(nf).toMatchObject({ ok: false, outcome: "error", error: "the build API answered HTTP 404" });
  });

  it("a stalled launch is abandoned at the time limit and the connection is closed", async () => {
    hub.script("gh/o/stall/HEAD", [{ phase: "waiting", message: "Waiting for build to start...\n" }, { stall: true }]);
    const gone = new Promise<string>((ok) => hub.events.once("gone", ok));
    const r = await testLaunch({ name: "p", url: hub.url }, { repo: "o/stall", ref: "HEAD" }, { timeoutMs: 150 });
    expect(r).toMatchObject({ ok: false, outcome: "timeout", error: "not ready after 0 s" });
    expect(r.phases.map((p) => p.phase)).toEqual(["waiting"]);
    expect(await gone).toBe("gh/o/stall/HEAD");
  });
});

describe("!binder check", () => {
  let staging: FakeBinderHub;
  let prod: FakeBinderHub;
  let app: App;
  const yaml = (extra = "") =>
    `${chartBotYaml()}sites:\n  - { name: staging, url: "${staging.url}" }\n  - { name: prod, url: "${prod.url}" }\n${extra}`;

  beforeAll(async () => {
    staging = await startFakeBinderHub();
    prod = await startFakeBinderHub();
  });
  afterEach(async () => {
    await app?.close();
  });
  afterAll(async () => {
    await Promise.all([staging.close(), prod.close()]);
  });

  /** An outlet that keeps what was posted and each edit, like a platform that edits in place. */
  function recorder(): { outlet: Outlet; posts: string[]; edits: string[] } {
    const posts: string[] = [];
    const edits: string[] = [];
    const outlet: Outlet = {
      send: async (room, reply: Reply) => {
        posts.push(renderPlain(reply));
        return { room, id: `m${posts.length}` };
      },
      update: async (p, reply: Reply) => {
        edits.push(`${p.id}: ${renderPlain(reply)}`);
        return p;
      },
    };
    return { outlet, posts, edits };
  }

  it("health and a test launch on every site; one progress message edited in place; the result kept for the checklist", async () => {
    staging.script(LAUNCH_SPEC, READY_SCRIPT);
    prod.script(LAUNCH_SPEC, READY_SCRIPT);
    app = await testApp(yaml());
    const rec = recorder();
    const r = await app.bot.handle(
      { platform: "test", room: "ops", userId: "alice", text: "!binder check", eventId: "c1" },
      rec.outlet,
    );
    expect(r?.ok, r ? renderPlain(r) : "").toBe(true);
    expect(rec.posts).toEqual(["Checking staging (1/2): asking /health…"]);
    expect(rec.edits.every((e) => e.startsWith("m1: "))).toBe(true);
    expect(rec.edits).toContain("m1: Checking staging (1/2): health ok");
    expect(rec.edits.at(-1)).toMatch(
      /^m1: Checking prod \(2\/2\): health ok; launch: waiting → fetching → building → pushing → built → launching → ready \(\d+ s\)$/,
    );
    const text = renderPlain(r!);
    expect(text).toMatch(/✓ staging .*: health ok; launched willingc\/ThinkDSP@HEAD in \d+ s: waiting → .* → ready/);
    expect(text).toMatch(/✓ prod /);
    expect(staging.requests).toEqual(["/health", `/build/${LAUNCH_SPEC}`]);
    const kept = await app.services.store.get<SiteCheck>(lastCheckKey("prod"));
    expect(kept).toMatchObject({ site: "prod", ok: true, launch: { outcome: "ready" } });
  });

  it("check <site>: a failing launch with its last messages, and an unhealthy site's failing checks", async () => {
    prod.script(LAUNCH_SPEC, FAILED_SCRIPT);
    prod.setHealth({
      ok: false,
      checks: [
        { service: "Docker registry", ok: false },
        { service: "JupyterHub API", ok: true },
      ],
    });
    app = await testApp(yaml());
    const before = staging.requests.length;
    const r = await say(app, "!binder check prod");
    expect(r?.ok).toBe(false);
    expect(r?.error).toBe("Check failed on prod.");
    const text = renderPlain(r!);
    expect(text).toContain("health unhealthy: Docker registry failing");
    expect(text).toMatch(
      /launch of willingc\/ThinkDSP@HEAD failed after \d+ s at failed: waiting → fetching → building → failed/,
    );
    expect(text).toContain("[building] ERROR: No matching distribution found for thinkdsp==9.9");
    expect(staging.requests.length).toBe(before); // only the site asked for
    prod.setHealth({ ok: true, checks: [] });
  });

  it("a launch that stalls past check.timeoutSeconds is reported with its last phase", async () => {
    prod.script(LAUNCH_SPEC, [{ phase: "waiting", message: "Waiting for build to start...\n" }, { stall: true }]);
    app = await testApp(yaml("check: { timeoutSeconds: 0.2 }\n"));
    const r = await say(app, "!binder check prod");
    expect(r?.ok).toBe(false);
    expect(renderPlain(r!)).toMatch(/launch of willingc\/ThinkDSP@HEAD not ready after \d+ s at waiting/);
  });

  it("an unknown site, and no sites at all, are one clear line", async () => {
    app = await testApp(yaml());
    expect((await say(app, "!binder check moon"))?.error).toBe("There is no site 'moon' (configured: staging, prod).");
    await app.close();
    app = await testApp(chartBotYaml());
    expect((await say(app, "!binder check"))?.error).toBe("No sites are configured: add sites: [{name, url}] to the config.");
  });

  it("terminal: each progress edit is a line of its own, then the answer", async () => {
    prod.script(LAUNCH_SPEC, READY_SCRIPT);
    app = await testApp(yaml());
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: string[] = [];
    output.on("data", (d: Buffer) => lines.push(...d.toString().split("\n").filter(Boolean)));
    const shell = new ShellAdapter({ input, output, interactive: false });
    await shell.start(app.bot.handle.bind(app.bot));
    input.end("check prod\n");
    await shell.closed;
    const progress = lines.filter((l) => l.startsWith("Checking prod"));
    expect(progress[0]).toBe("Checking prod: asking /health…");
    expect(progress.at(-1)).toMatch(/launch: waiting → .* → ready/);
    expect(progress.length).toBeGreaterThanOrEqual(8);
    expect(lines.at(-1)).toMatch(/✓ prod .*launched willingc\/ThinkDSP@HEAD/);
  });
});
