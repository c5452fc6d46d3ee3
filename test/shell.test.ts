import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ShellAdapter } from "../adapters/shell/shell.ts";
import { testApp } from "./helpers/app.ts";

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
});
