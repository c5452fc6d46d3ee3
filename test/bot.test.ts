import pino from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { help } from "../src/commands/help.ts";
import { whoami } from "../src/commands/whoami.ts";
import { parseConfig } from "../src/config/load.ts";
import { redactor } from "../src/config/secrets.ts";
import type { CommandSpec } from "../src/core/command.ts";
import { FloodControl } from "../src/core/flood.ts";
import { renderPlain } from "../src/core/render.ts";
import { code, ok, para } from "../src/core/reply.ts";
import { createLogger } from "../src/log.ts";
import type { Services } from "../src/services.ts";
import { openStore } from "../src/store/store.ts";
import { MINIMAL_YAML, say, sayText, testApp } from "./helpers/app.ts";

const boom: CommandSpec<Services> = {
  name: "boom",
  summary: "throws",
  args: [],
  examples: ["boom"],
  access: "anyone",
  sideEffects: null,
  run: async () => {
    throw new Error("kaboom: disk on fire\n    at secretPlace (file.ts:1:1)");
  },
};
const echo: CommandSpec<Services> = {
  name: "echo",
  summary: "echoes",
  args: [
    { name: "count", type: "int", description: "how many", required: true },
    { name: "words", type: "rest", description: "what to say" },
  ],
  flags: [{ name: "loud", type: "boolean", description: "shout" }],
  examples: ["echo 2 hi"],
  access: "anyone",
  sideEffects: null,
  run: async (_ctx, { args, flags }) => {
    const w = String(args.words ?? "");
    return ok(
      [
        para(
          Array(args.count as number)
            .fill(flags.loud ? w.toUpperCase() : w)
            .join(" "),
        ),
      ],
      { args, flags },
    );
  },
};
const admin: CommandSpec<Services> = {
  name: "deploy-now",
  summary: "privileged",
  args: [],
  examples: ["deploy-now"],
  access: ["maintainer"],
  sideEffects: "deploys",
  run: async () => ok([para("deployed")]),
};

async function appWith(yaml = MINIMAL_YAML, logs?: string[]) {
  const log = logs ? pino({ level: "info" }, { write: (s: string) => void logs.push(s) }) : pino({ level: "silent" });
  return createApp(parseConfig(yaml, "t.yaml", { SECRET_TOKEN: "ghp_supersecretvalue123" }), {
    log,
    store: await openStore("memory", "."),
    commands: [help, whoami, boom, echo, admin],
  });
}

describe("dispatcher", () => {
  it("ignores what is not addressed to it", async () => {
    const app = await testApp();
    expect(await say(app, "morning all")).toBeNull();
  });

  it("answers an unknown command with a suggestion", async () => {
    const app = await testApp();
    const r = await say(app, "!binder whoamii");
    expect(r?.ok).toBe(false);
    expect(r?.command).toBeNull();
    expect(renderPlain(r!)).toContain("Did you mean !binder whoami?");
  });

  it("checks argument types and shows usage", async () => {
    const app = await appWith();
    const r = await say(app, "!binder echo many hi");
    expect(r?.ok).toBe(false);
    expect(r?.error).toBe("<count> must be a whole number, not 'many'.");
    expect(renderPlain(r!)).toContain("Usage: !binder echo [--loud] <count> [words…]");
    expect((await say(app, "!binder echo"))?.error).toMatch(/missing <count>/);
    expect((await say(app, "!binder echo 1 --quiet x"))?.error).toMatch(/unknown flag '--quiet'/);
    const good = await say(app, "!binder echo 2 --loud hello world");
    expect(renderPlain(good!)).toBe("HELLO WORLD HELLO WORLD");
  });

  it("turns a throwing command into one line in chat and the stack in the log", async () => {
    const logs: string[] = [];
    const app = await appWith(MINIMAL_YAML, logs);
    const r = await say(app, "!binder boom");
    expect(r?.ok).toBe(false);
    expect(renderPlain(r!)).toBe("'boom' failed: kaboom: disk on fire");
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "command failed");
    expect(line.err.stack).toContain("secretPlace");
    expect(line.eventId).toBeDefined();
    // and it keeps running
    expect((await say(app, "!binder whoami"))?.ok).toBe(true);
  });

  it("logs each handled message with its event id and command", async () => {
    const logs: string[] = [];
    const app = await appWith(MINIMAL_YAML, logs);
    await say(app, "!binder whoami", { eventId: "$evt42" });
    const handled = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "handled");
    expect(handled).toMatchObject({ eventId: "$evt42", command: "whoami", ok: true });
  });

  it("never lets a secret out in a reply or a log", async () => {
    const yaml = `${MINIMAL_YAML}github: { token: "\${SECRET_TOKEN}" }\n`;
    const leak: CommandSpec<Services> = {
      ...boom,
      name: "leak",
      run: async (ctx) => {
        ctx.log.info({ note: `token is ${ctx.services.config.github.token}` }, "oops");
        return ok([para("token ", code(ctx.services.config.github.token ?? ""))]);
      },
    };
    const logs: string[] = [];
    const loaded = parseConfig(yaml, "t.yaml", { SECRET_TOKEN: "ghp_supersecretvalue123" });
    const log = createLogger({
      level: "info",
      format: "json",
      redact: redactor(loaded.secrets),
      stream: { write: (s: string) => void logs.push(s) },
    });
    const app = await createApp(loaded, { log, store: await openStore("memory", "."), commands: [leak] });
    const r = await say(app, "!binder leak");
    expect(renderPlain(r!)).toBe("token ***");
    log.info({ github: loaded.config.github }, "config");
    // every key the config treats as secret is censored by key too, even a value the redactor never saw
    log.info({ hook: { webhookSecret: "whsec_not_in_config", secret: "plain_secret_value" } }, "webhook");
    const all = logs.join("");
    expect(all).toContain("token is ***");
    expect(all).toContain('"token":"***"');
    expect(all).not.toContain("ghp_supersecretvalue123");
    expect(all).not.toContain("whsec_not_in_config");
    expect(all).not.toContain("plain_secret_value");
  });

  it("denies a privileged command with who may run it, and allows configured users", async () => {
    const yaml = `${MINIMAL_YAML}access: { roles: { maintainer: ["slack:UADMIN"] } }\n`;
    const app = await appWith(yaml);
    const denied = await say(app, "!binder deploy-now", { platform: "slack", userId: "UOTHER" });
    expect(denied?.ok).toBe(false);
    expect(denied?.error).toContain("'deploy-now' needs the role maintainer");
    expect(denied?.error).toContain("slack:UOTHER");
    const allowed = await say(app, "!binder deploy-now", { platform: "slack", userId: "UADMIN" });
    expect(allowed?.ok).toBe(true);
    // display names never grant anything
    const spoof = await say(app, "!binder deploy-now", { platform: "matrix", userId: "@x:y", displayName: "UADMIN" });
    expect(spoof?.ok).toBe(false);
  });

  it("answers in the thread it was asked in", async () => {
    const app = await testApp();
    const r = await say(app, "!binder whoami", { thread: "1700000000.000100" });
    expect(r?.thread).toBe("1700000000.000100");
  });

  it("whoami shows the immutable id and roles", async () => {
    const app = await testApp(`${MINIMAL_YAML}access: { roles: { maintainer: ["matrix:@min:matrix.org"] } }\n`);
    const r = await say(app, "binderbot: whoami", { platform: "matrix", userId: "@min:matrix.org", displayName: "Min" });
    expect(r?.data).toMatchObject({ ref: "matrix:@min:matrix.org", roles: ["user", "maintainer"] });
  });
});

describe("flood control", () => {
  it("allows max per window, refuses once, then is silent, then listens again", async () => {
    let t = 1_000_000;
    const app = await testApp(`${MINIMAL_YAML}flood: { max: 3, perSeconds: 10 }\n`, { now: () => new Date(t) });
    const results: Array<string | null> = [];
    for (let i = 0; i < 6; i++) {
      const r = await say(app, "!binder whoami");
      results.push(r === null ? null : r.ok ? "ok" : "refused");
      t += 100;
    }
    expect(results).toEqual(["ok", "ok", "ok", "refused", null, null]);
    // another user is not affected
    expect((await say(app, "!binder whoami", { userId: "bob" }))?.ok).toBe(true);
    // not-addressed chatter never counts
    t += 10_000;
    expect((await say(app, "!binder whoami"))?.ok).toBe(true);
  });

  it("does not count messages that are not for the bot", () => {
    const f = new FloodControl({ max: 1, perSeconds: 10 }, () => 0);
    expect(f.check("u")).toBe("allow");
    expect(f.check("u")).toBe("refuse");
    expect(f.check("u")).toBe("silent");
    const off = new FloodControl({ max: 0, perSeconds: 10 }, () => 0);
    for (let i = 0; i < 100; i++) expect(off.check("u")).toBe("allow");
  });
});

describe("help", () => {
  it("lists every command and explains one, generated from the specs", async () => {
    const app = await appWith();
    const list = await sayText(app, "!binder help");
    for (const name of ["help", "whoami", "boom", "echo", "deploy-now"]) expect(list).toContain(`!binder ${name}`);
    const one = await sayText(app, "!binder help echo");
    expect(one).toContain("Usage: !binder echo [--loud] <count> [words…]");
    expect(one).toContain("<count>: how many");
    expect(one).toContain("--loud: shout");
    expect(one).toContain("!binder echo 2 hi");
    const priv = await sayText(app, "!binder help deploy-now");
    expect(priv).toContain("Who may run it: maintainer");
    expect(priv).toContain("Side effects: deploys");
    expect((await say(app, "!binder help nope"))?.ok).toBe(false);
  });
});
