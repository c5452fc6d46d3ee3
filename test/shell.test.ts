import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ShellAdapter } from "../adapters/shell/shell.ts";
import type { Reply } from "../src/core/reply.ts";
import { testApp } from "./helpers/app.ts";
import { ManualTimers } from "./helpers/timers.ts";

describe("shell adapter", () => {
  it("answers each line in order, as direct messages, and ends with its input", async () => {
    const app = await testApp();
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (d: Buffer) => {
      printed += d.toString();
    });
    const shell = new ShellAdapter({ input, output, interactive: false, userId: "me" });
    const seen: string[] = [];
    await shell.start(async (msg) => {
      seen.push(`${msg.platform}:${msg.userId}:${msg.addressed}:${msg.text}`);
      return app.bot.handle(msg);
    });
    expect(shell.status().connected).toBe(true);
    input.end("whoami\n\n!binder help whoami\nnonsense words\n");
    await shell.closed;
    expect(seen).toEqual(["shell:me:true:whoami", "shell:me:true:!binder help whoami", "shell:me:true:nonsense words"]);
    expect(printed).toContain("User: shell:me");
    expect(printed).toContain("Usage: !binder whoami");
    expect(printed).toContain("I don't know the command 'nonsense'");
  });

  it("keeps going when the handler throws", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (d: Buffer) => {
      printed += d.toString();
    });
    const shell = new ShellAdapter({ input, output, interactive: false });
    let n = 0;
    await shell.start(async () => {
      if (++n === 1) throw new Error("source down");
      return { ok: true, blocks: [{ type: "paragraph", content: ["second answered"] }] };
    });
    input.end("one\ntwo\n");
    await shell.closed;
    expect(printed).toContain("source down");
    expect(printed).toContain("second answered");
  });

  it("never applies flood control to the local user: 8 piped lines get 8 answers", async () => {
    const app = await testApp(); // flood: at most 5 commands in 10 s per user, as in a room
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (d: Buffer) => {
      printed += d.toString();
    });
    const shell = new ShellAdapter({ input, output, interactive: false, userId: "me" });
    await shell.start((msg) => app.bot.handle(msg));
    input.end("whoami\n".repeat(8));
    await shell.closed;
    expect(printed.match(/User: shell:me/g)).toHaveLength(8);
    expect(printed).not.toContain("faster than I can answer");
    // answers are set apart by a blank line
    expect(printed.split("\n\n")).toHaveLength(8);
  });

  it("answers a fast line while a slow one runs, says the slow one is working, and labels its late answer", async () => {
    const timers = new ManualTimers();
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    const waiters: Array<{ text: string; resolve: () => void }> = [];
    const printedSomething = (text: string) =>
      new Promise<void>((resolve) => {
        if (printed.includes(text)) resolve();
        else waiters.push({ text, resolve });
      });
    output.on("data", (d: Buffer) => {
      printed += d.toString();
      for (const w of waiters.filter((x) => printed.includes(x.text))) w.resolve();
    });
    let finishSlow!: () => void;
    const slowDone = new Promise<void>((r) => {
      finishSlow = r;
    });
    const answer = (text: string): Reply => ({ ok: true, blocks: [{ type: "paragraph", content: [text] }] });
    const shell = new ShellAdapter({ input, output, interactive: false, progress: true, timers });
    await shell.start(async (msg) => {
      if (msg.text === "sha #395") {
        await slowDone;
        return answer("Pin 0.1.0-441f5ea");
      }
      return answer("the commands: …");
    });
    input.write("sha #395\nhelp\n");
    await printedSomething("the commands: …");
    expect(printed).toBe("> help\nthe commands: …\n"); // help did not wait for sha, and says so
    timers.advance(999);
    expect(printed).not.toContain("working on");
    timers.advance(1);
    expect(printed).toBe("> help\nthe commands: …\n\n… working on 'sha #395'\n");
    finishSlow();
    input.end();
    await shell.closed;
    expect(printed).toBe("> help\nthe commands: …\n\n… working on 'sha #395'\n\n> sha #395\nPin 0.1.0-441f5ea\n");
    expect(timers.pending).toBe(0);
  });
});
