import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MINIMAL_YAML } from "./helpers/app.ts";
import { jsonLines, runCli } from "./helpers/cli.ts";

let dir: string;
let cfg: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bb-cli-"));
  cfg = join(dir, "bot.yaml");
  writeFileSync(
    cfg,
    `${MINIMAL_YAML}github: { token: "\${TEST_GH_TOKEN}" }\naccess: { roles: { maintainer: ["slack:UADMIN"] } }\n`,
  );
});

const KEYS = ["command", "data", "error", "input", "ok", "text"];

describe("binderbot ask", () => {
  it("prints exactly one JSON object per TEXT, with the contract's keys", async () => {
    const r = await runCli(["ask", "--config", cfg, "--json", "!binder help", "!binder nosuch", "not for the bot"]);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(Object.keys(l).sort()).toEqual(KEYS);
    expect(lines[0]).toMatchObject({ input: "!binder help", command: "help", ok: true, error: null });
    expect(String(lines[0]?.text)).toContain("!binder whoami");
    expect(lines[1]).toMatchObject({ input: "!binder nosuch", command: null, ok: false });
    expect(String(lines[1]?.error)).toContain("nosuch");
    // each input is said to the bot directly, as in a DM: there is no "not addressed"
    expect(lines[2]).toMatchObject({ input: "not for the bot", command: null, ok: false, data: null });
    expect(String(lines[2]?.error)).toContain("I don't know the command 'not'");
  });

  it("treats each input as said to the bot directly: `ask help` answers", async () => {
    const r = await runCli(["ask", "--config", cfg, "--json", "help", "whoami"]);
    expect(jsonLines(r.stdout).map((l) => [l.command, l.ok])).toEqual([
      ["help", true],
      ["whoami", true],
    ]);
  });

  it("separates plain-text answers with a blank line, and never flood-limits them", async () => {
    const r = await runCli(["ask", "--config", cfg, ...Array(7).fill("whoami")]);
    expect(r.stdout).toBe(Array(7).fill("User: shell:local\nRoles: user\n").join("\n"));
  });

  it("answers each line of stdin when no TEXT is given", async () => {
    const r = await runCli(["ask", "--config", cfg, "--json"], { input: "!binder whoami\n\n@binderbot help whoami\n" });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.command)).toEqual(["whoami", "help"]);
  });

  it("answers as the user given with --as", async () => {
    const r = await runCli(["ask", "--config", cfg, "--as", "slack:UADMIN", "--json", "!binder whoami"]);
    expect(jsonLines(r.stdout)[0]?.data).toMatchObject({ platform: "slack", userId: "UADMIN", roles: ["user", "maintainer"] });
  });

  it("prints plain text without --json", async () => {
    const r = await runCli(["ask", "--config", cfg, "!binder whoami"]);
    expect(r.stdout).toBe("User: shell:local\nRoles: user\n");
  });

  it("reads BINDERBOT_CONFIG when --config is absent", async () => {
    const r = await runCli(["ask", "--json", "!binder help"], { env: { BINDERBOT_CONFIG: join(dir, "missing.yaml") } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing.yaml");
  });

  it("uses config/default.yaml without either", async () => {
    const r = await runCli(["ask", "--json", "!binder whoami"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ command: "whoami", ok: true });
  });

  it.each([
    [["ask", "--bogus"], "Unknown option '--bogus'"],
    [["ask", "--as", "nocolon", "hi"], "--as takes PLATFORM:USERID"],
    [["ask", "--config"], "--config"],
    [["frobnicate"], "unknown subcommand 'frobnicate'"],
  ])("exits 2 for bad usage: %j", async (args, msg) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(msg);
    expect(r.stdout).toBe("");
  });

  it("exits 2 for an invalid config, naming the file and key path", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, MINIMAL_YAML.replace("store: memory", "store: memory\nflood: { max: lots }"));
    const r = await runCli(["ask", "--config", bad, "--json", "!binder help"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toContain("flood.max: expected number, got string");
    expect(r.stdout).toBe("");
  });

  it("survives garbage input and keeps answering", async () => {
    const garbage = [
      "!binder",
      "!binder \u0000\u0007\u001b[31m",
      `!binder sha ${"x".repeat(10_000)}`,
      "!binder 'unclosed",
      "!binder help",
    ];
    const r = await runCli(["ask", "--config", cfg, "--json"], { input: `${garbage.join("\n")}\n` });
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toMatchObject({ command: "help", ok: true });
  });

  it("works through npx, as other tools call it", async () => {
    const r = await runCli(["binderbot", "ask", "--config", cfg, "--json", "!binder whoami"], {
      command: ["npx", "--no-install"],
    });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ command: "whoami", ok: true });
  });
});

describe("binderbot check-config", () => {
  it("validates and prints what would start, secrets masked", async () => {
    const r = await runCli(["check-config", cfg], { env: { TEST_GH_TOKEN: "ghp_verysecret123" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("is valid");
    expect(r.stdout).toContain("would start: shell");
    expect(r.stdout).toContain("token: '***'");
    expect(r.stdout + r.stderr).not.toContain("ghp_verysecret123");
  });

  it("exits 2 with the problems of an invalid config", async () => {
    const bad = join(dir, "bad2.yaml");
    writeFileSync(bad, "charts: nope\nflood: { max: lots }\n");
    const r = await runCli(["check-config", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("charts: expected array");
    expect(r.stderr).toContain("flood.max: expected number");
  });

  it("checks a team file holding only adapters and access, showing the merged result", async () => {
    const team = join(dir, "team.yaml");
    writeFileSync(team, 'adapters:\n  slack: { botToken: "${SLACK_BOT_TOKEN}", appToken: "${SLACK_APP_TOKEN}" }\n');
    const env = { SLACK_BOT_TOKEN: "xoxb-team-secret", SLACK_APP_TOKEN: "xapp-team-secret" };
    const r = await runCli(["check-config", team], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("config/default.yaml");
    expect(r.stdout).toContain("would start: slack");
    expect(r.stdout).toContain("deploy: jupyterhub/mybinder.org-deploy mybinder/Chart.yaml");
    expect(r.stdout).toContain("index: https://jupyterhub.github.io/helm-chart/index.yaml");
    expect(r.stdout).not.toContain("team-secret");
    const unset = await runCli(["check-config", team]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("environment variable SLACK_BOT_TOKEN is not set");
    expect(unset.stderr).toContain("environment variable SLACK_APP_TOKEN is not set");
  });

  it("checks each chart's index: a URL, or a local file that exists", async () => {
    const local = join(dir, "index.yaml");
    writeFileSync(local, "apiVersion: v1\nentries: {}\n");
    const withIndex = (index: string) => {
      const f = join(dir, `idx-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(f, MINIMAL_YAML.replace("index: http://127.0.0.1:9/index.yaml", `index: "${index}"`));
      return f;
    };
    expect((await runCli(["check-config", withIndex(local)])).code).toBe(0);
    const missing = await runCli(["check-config", withIndex(join(dir, "gone.yaml"))]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`charts[0].index: cannot read the local index ${join(dir, "gone.yaml")}: no such file`);
    const ftp = await runCli(["check-config", withIndex("ftp://example.org/index.yaml")]);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain("charts[0].index: expected an http(s) URL or a local file");
  });

  it("checks one file: more than one is bad usage", async () => {
    const r = await runCli(["check-config", cfg, cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("check-config checks one file, got 2");
    const flag = await runCli(["check-config", "-x"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("'-x'");
  });
});

describe("binderbot run", () => {
  it("talks in the terminal when no chat adapter is configured, and ends with its input", async () => {
    const r = await runCli(["run", "--config", cfg], { input: "help\n!binder whoami\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("!binder help — List the commands");
    expect(r.stdout).toContain("User: shell:local");
  });

  it("a busy HTTP port is one line naming the port, no stack", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const f = join(dir, "busy.yaml");
      writeFileSync(f, `${MINIMAL_YAML}http: { port: ${port}, host: 127.0.0.1 }\n`);
      const r = await runCli(["run", "--config", f]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `binderbot: cannot listen on 127.0.0.1:${port} (http.port): the port is in use by another process (EADDRINUSE); stop it or set http.port to a free port\n`,
      );
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it("a data directory that cannot be written is one line naming the path, no stack", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory\n");
    const f = join(dir, "baddir.yaml");
    writeFileSync(f, MINIMAL_YAML.replace("store: memory", `store: sqlite\ndataDir: ${join(file, "data")}`));
    for (const sub of [["run"], ["ask", "whoami"]]) {
      const r = await runCli([...sub, "--config", f]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`^binderbot: cannot write the data directory ${join(file, "data")} \\(dataDir\\): ENOTDIR`),
      );
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("keeps logs from landing between the answers of piped input", async () => {
    // the config logs at info: every handled message would be a line on stderr
    const r = await runCli(["run", "--config", cfg], { input: "whoami\n!binder nosuch\nwhoami\n" });
    expect(r.code).toBe(0);
    expect(r.stdout.match(/User: shell:local/g)).toHaveLength(2);
    expect(r.stderr).toBe("");
  });
});
