import { afterEach, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { commands } from "../src/commands/index.ts";
import type { Outlet } from "../src/core/adapter.ts";
import type { CommandSpec } from "../src/core/command.ts";
import { ok, para, type Reply } from "../src/core/reply.ts";
import type { Services } from "../src/services.ts";
import { MINIMAL_YAML, testApp } from "./helpers/app.ts";
import { body, MATRIX_ALICE, MATRIX_BOT, matrixBot, shellBot, slackBot } from "./helpers/chat.ts";

/**
 * The core capability "a command speaks again later in its room/thread": `ctx.send` (progress),
 * `ctx.update` (edit it), the answer, then `ctx.later` work that says something once released.
 * Driven through each real adapter against its fake platform.
 */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

function progressCommand(release: Promise<void>, seen: { lasting?: boolean }): CommandSpec<Services> {
  return {
    name: "progress",
    summary: "test: progress, an edit, an answer and a follow-up",
    args: [],
    examples: ["progress"],
    access: "anyone",
    sideEffects: null,
    async run(ctx) {
      seen.lasting = ctx.lasting;
      const posted = await ctx.send(ok([para("step 1 of 2 (token s3cr3t-token)")]));
      await ctx.update(posted, ok([para("step 2 of 2")]));
      ctx.later(async () => {
        await release;
        await ctx.send(ok([para("finished later")]));
      });
      return ok([para("the answer")]);
    },
  };
}

const SECRET_YAML = `${MINIMAL_YAML}github: { token: s3cr3t-token }\n`;

let app: App | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await app?.close();
  app = undefined;
});

async function appWith(release: Promise<void>, seen: { lasting?: boolean } = {}): Promise<App> {
  app = await testApp(SECRET_YAML, { commands: [...commands, progressCommand(release, seen)] });
  return app;
}

describe("a command speaks again after its answer (ctx.send / ctx.update / ctx.later)", () => {
  it("core: later work starts only after the answer is delivered, and what is said is scrubbed of secrets", async () => {
    const g = gate();
    const seen: { lasting?: boolean } = {};
    const a = await appWith(g.wait, seen);
    const said: string[] = [];
    let delivered!: () => void;
    const answered = new Promise<void>((r) => {
      delivered = r;
    });
    const outlet: Outlet = {
      answered,
      send: async (room, reply) => {
        said.push(`send ${room} ${reply.thread ?? "-"}: ${text(reply)}`);
        return { room, id: String(said.length) };
      },
      update: async (p, reply) => {
        said.push(`update ${p.id}: ${text(reply)}`);
        return p;
      },
    };
    const reply = await a.bot.handle(
      { platform: "test", room: "r1", userId: "u", text: "!binder progress", eventId: "e1", thread: "t9" },
      outlet,
    );
    expect(text(reply!)).toBe("the answer");
    expect(seen.lasting).toBe(true);
    g.open();
    // The follow-up waits for the adapter to say the answer is posted.
    await new Promise((r) => setImmediate(r));
    expect(said).toEqual(["send r1 t9: step 1 of 2 (token ***)", "update 1: step 2 of 2"]);
    delivered();
    await a.bot.idle();
    expect(said[2]).toBe("send r1 t9: finished later");
  });

  it("core: without an outlet a command is told nothing later reaches anyone", async () => {
    const seen: { lasting?: boolean } = {};
    const a = await appWith(new Promise(() => {}), seen); // never released
    const reply = await a.bot.handle({ platform: "test", room: "r1", userId: "u", text: "!binder progress", eventId: "e2" });
    expect(seen.lasting).toBe(false);
    // ctx.send has nowhere to go: the command fails with one line, the bot keeps running.
    expect(reply?.ok).toBe(false);
    expect(reply?.error).toContain("cannot be spoken to again");
  });

  it("core: close() ends later work that never finishes (it is aborted, not awaited forever)", async () => {
    const a = await appWith(new Promise(() => {})); // never released
    const outlet: Outlet = { send: async (room) => ({ room, id: "1" }), update: async (p) => p };
    await a.bot.handle({ platform: "test", room: "r1", userId: "u", text: "!binder progress", eventId: "e3" }, outlet);
    await a.bot.close();
  });

  it("Slack: progress posted then edited in place (chat.update), the answer, the follow-up in the asker's thread", async () => {
    const g = gate();
    const a = await appWith(g.wait);
    const fake = await slackBot(a, cleanups);
    const root = fake.nextTs();
    await fake.sendEvent(fake.message("!binder progress", { thread_ts: root }));
    const answer = await fake.waitForPost((p) => p.text.includes("the answer"));
    expect(fake.posts.map((p) => [p.text, p.thread_ts])).toEqual([
      ["step 2 of 2", root], // the progress message, edited in place
      ["the answer", root],
    ]);
    expect(fake.updates).toHaveLength(1);
    expect(fake.updates[0]).toMatchObject({ channel: "C0001", ts: fake.posts[0]?.ts, text: "step 2 of 2" });
    g.open();
    const follow = await fake.waitForPost((p) => p.text.includes("finished later"));
    expect(follow.thread_ts).toBe(root);
    expect(follow.channel).toBe("C0001");
    expect(Number(follow.ts)).toBeGreaterThan(Number(answer.ts));
    expect(JSON.stringify(fake.posts)).not.toContain("s3cr3t");
  });

  it("Matrix: progress as a notice then an m.replace edit of it, the answer, the follow-up in the thread", async () => {
    const g = gate();
    const a = await appWith(g.wait);
    const { hs, room } = await matrixBot(a, cleanups);
    const root = hs.say(room, MATRIX_ALICE, "deploy is red");
    const answered = hs.nextSent((e) => body(e).includes("the answer"));
    hs.say(room, MATRIX_ALICE, "!binder progress", { thread: root });
    await answered;
    const [progress, edit, answer] = hs.events(room, MATRIX_BOT).filter((e) => e.type === "m.room.message");
    expect(body(progress!)).toContain("step 1 of 2 (token");
    expect(JSON.stringify(hs.events(room, MATRIX_BOT))).not.toContain("s3cr3t");
    expect(progress!.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
    expect(edit!.content["m.relates_to"]).toEqual({ rel_type: "m.replace", event_id: progress!.event_id });
    expect((edit!.content["m.new_content"] as Record<string, unknown>).body).toBe("step 2 of 2");
    expect(edit!.content.body).toBe("* step 2 of 2");
    expect(answer!.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
    const follow = hs.nextSent((e) => body(e).includes("finished later"));
    g.open();
    const f = await follow;
    expect(f.content.msgtype).toBe("m.notice");
    expect(f.content["m.relates_to"]).toMatchObject({ rel_type: "m.thread", event_id: root });
  });

  it("terminal: progress, its update as a new line, the answer, then the follow-up", async () => {
    const g = gate();
    const a = await appWith(g.wait);
    const { input, shell, printed, onPrint } = await shellBot(a);
    const lines = () => printed().split("\n").filter(Boolean);
    input.end("progress\n");
    await shell.closed;
    expect(lines()).toEqual(["step 1 of 2 (token ***)", "step 2 of 2", "the answer"]);
    const more = new Promise<void>((r) => onPrint(r));
    g.open();
    await more;
    await a.bot.idle();
    expect(lines().at(-1)).toBe("finished later");
  });
});

function text(r: Reply): string {
  return r.blocks.map((b) => (b.type === "paragraph" ? b.content.join("") : "")).join("\n");
}
