import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configPath, DEFAULT_CONFIG, loadConfig, parseConfig } from "../src/config/load.ts";
import { collectSecrets, masked, redactor } from "../src/config/secrets.ts";
import { MINIMAL_YAML } from "./helpers/app.ts";

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, "bad.yaml", env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain("bad.yaml");
    return (err as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("loads the shipped z2jh example: the jupyterhub chart by configuration alone, chartpress.yaml found by itself", () => {
    const { config } = loadConfig(join(DEFAULT_CONFIG, "..", "z2jh.example.yaml"), {});
    expect(config.charts).toHaveLength(1);
    expect(config.charts[0]).toMatchObject({ name: "jupyterhub", github: "jupyterhub/zero-to-jupyterhub-k8s" });
    expect(config.charts[0]?.chartpressDir).toBeUndefined();
  });

  it("loads the shipped default (mybinder.org) without any environment", () => {
    const { config } = loadConfig(DEFAULT_CONFIG, {});
    expect(config.prefix).toBe("!binder");
    expect(config.charts[0]).toMatchObject({ name: "binderhub", github: "jupyterhub/binderhub" });
    expect(config.deploy).toMatchObject({
      github: "jupyterhub/mybinder.org-deploy",
      chartFile: "mybinder/Chart.yaml",
      ci: "github-actions",
      workflow: "cd.yml",
    });
    expect(config.github.token).toBeUndefined();
    expect(config.dataDir).toBe("./data");
    expect(config.store).toBe("sqlite");
  });

  it("interpolates ${ENV} and ${ENV:-default}", () => {
    const { config } = loadConfig(DEFAULT_CONFIG, { GITHUB_TOKEN: "ghp_abcdef123456", BINDERBOT_DATA_DIR: "/srv/data" });
    expect(config.github.token).toBe("ghp_abcdef123456");
    expect(config.dataDir).toBe("/srv/data");
    const lit = parseConfig(`${MINIMAL_YAML}prefix: "$\${notavar}"\n`, "x.yaml", {});
    expect(lit.config.prefix).toBe("${notavar}");
  });

  it("picks --config, then BINDERBOT_CONFIG, then the default", () => {
    expect(configPath("/a.yaml", { BINDERBOT_CONFIG: "/b.yaml" })).toBe("/a.yaml");
    expect(configPath(undefined, { BINDERBOT_CONFIG: "/b.yaml" })).toBe("/b.yaml");
    expect(configPath(undefined, {})).toBe(DEFAULT_CONFIG);
  });

  it.each([
    ["wrong type", `${MINIMAL_YAML}prefix: 42\n`, "prefix: expected string, got number 42"],
    ["unknown key (typo)", `${MINIMAL_YAML}prefx: "!b"\n`, "(top level): unknown key 'prefx'"],
    ["nested unknown key", MINIMAL_YAML.replace("index:", "indx:"), "charts[0]: unknown key 'indx'"],
    ["missing required", MINIMAL_YAML.replace(/deploy:\n.*\n/, ""), "deploy: expected object (missing)"],
    [
      "missing nested",
      MINIMAL_YAML.replace("    github: jupyterhub/binderhub\n", ""),
      "charts[0].github: expected string (missing)",
    ],
    [
      "bad enum",
      `${MINIMAL_YAML.replace("deploy:\n", "deploy:\n  ci: jenkins\n")}`,
      'deploy.ci: expected one of "github-actions", "travis"',
    ],
    ["bad store", MINIMAL_YAML.replace("store: memory", "store: postgres"), "store: expected sqlite, memory, or a redis:// URL"],
    [
      "bad repo",
      MINIMAL_YAML.replace("github: jupyterhub/binderhub", "github: binderhub"),
      "charts[0].github: expected owner/name",
    ],
    ["empty chart list", "store: memory\ncharts: []\ndeploy: { github: a/b }\n", "charts: expected at least one chart"],
    [
      "duplicate chart",
      `${MINIMAL_YAML}`.replace("deploy:", "  - { name: binderhub, github: a/b, git: /x, index: /y }\ndeploy:"),
      "charts[1].name: 'binderhub' is configured twice",
    ],
    [
      "bad access ref",
      `${MINIMAL_YAML}access: { roles: { maintainer: ["UADMIN"] } }\n`,
      "access.roles.maintainer[0]: expected platform:userId",
    ],
    ["not a mapping", "- a\n- b\n", "(top level): expected a mapping"],
    ["yaml syntax", "prefix: [unclosed\n", "not valid YAML at line"],
    [
      "bad cron",
      `${MINIMAL_YAML}mirrors: { fetchCron: "every ten minutes" }\n`,
      'mirrors.fetchCron: expected a cron expression such as "*/10 * * * *"',
    ],
    [
      "slack socket without app token",
      `${MINIMAL_YAML}adapters: { slack: { botToken: xoxb-1 } }\n`,
      "adapters.slack.appToken: expected an app-level token",
    ],
  ])("reports %s with the key path", (_name, yaml, expected) => {
    const p = problems(yaml);
    expect(p.join("\n")).toContain(expected);
  });

  it("reports an unset variable inside a longer string, naming it", () => {
    const p = problems(MINIMAL_YAML.replace("store: memory", 'store: "redis://:${REDIS_PASSWORD}@db:6379"'));
    expect(p).toEqual(["store: environment variable REDIS_PASSWORD is not set"]);
  });

  it("reports every problem at once, naming unset variables where a value is required", () => {
    const yaml = `${MINIMAL_YAML.replace("store: memory", 'store: "redis://:${REDIS_PASSWORD}@db:6379"')}adapters:
  slack: { botToken: "\${SLACK_BOT_TOKEN}", appToken: "\${SLACK_APP_TOKEN}" }
flood: { max: lots }
`;
    expect(problems(yaml)).toEqual([
      "store: environment variable REDIS_PASSWORD is not set",
      'flood.max: expected number, got string "lots"',
      "adapters.slack.botToken: environment variable SLACK_BOT_TOKEN is not set (a value is required here)",
      "adapters.slack.appToken: environment variable SLACK_APP_TOKEN is not set (a value is required here)",
    ]);
  });

  it("names every unset secret of every adapter at once", () => {
    const yaml = `${MINIMAL_YAML}adapters:
  slack: { botToken: "\${SLACK_BOT_TOKEN}", appToken: "\${SLACK_APP_TOKEN}" }
  matrix: { homeserver: "https://matrix.example.org", userId: "@bot:example.org", accessToken: "\${MATRIX_TOKEN}" }
  gitter: { accessToken: "\${GITTER_TOKEN}" }
`;
    const unset = problems(yaml).map((p) => /environment variable (\w+) is not set/.exec(p)?.[1]);
    expect(unset.sort()).toEqual(["GITTER_TOKEN", "MATRIX_TOKEN", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"]);
  });

  it("reports an unreadable file, saying why", () => {
    expect(() => loadConfig("/nonexistent/binderbot.yaml")).toThrow(/cannot read the file: no such file/);
    expect(() => loadConfig(tmpdir())).toThrow(/cannot read the file: is a directory/);
  });

  it("never prints a secret in an error", () => {
    const p = problems(`${MINIMAL_YAML}github: { token: 123456789 }\n`);
    expect(p.join("\n")).toContain("github.token: expected string, got number");
    expect(p.join("\n")).not.toContain("123456789");
  });

  it("collects, masks and redacts secrets, URL passwords included", () => {
    const yaml = `${MINIMAL_YAML.replace("store: memory", 'store: "redis://:${REDIS_PASSWORD}@db:6379"')}github: { token: "\${GH}" }
adapters:
  slack: { botToken: "\${SLACK_BOT}", appToken: xapp-1-abcdef }
`;
    const loaded = parseConfig(yaml, "s.yaml", {
      GH: "ghp_token_value",
      SLACK_BOT: "xoxb-bot-value",
      REDIS_PASSWORD: "hunter22",
    });
    expect([...loaded.secrets].sort()).toEqual(["ghp_token_value", "hunter22", "xapp-1-abcdef", "xoxb-bot-value"]);
    const m = JSON.stringify(masked(loaded.config));
    for (const s of loaded.secrets) expect(m).not.toContain(s);
    expect(m).toContain("redis://:***@db:6379");
    const r = redactor(collectSecrets(loaded.config));
    expect(r("Authorization: token ghp_token_value; pw hunter22")).toBe("Authorization: token ***; pw ***");
  });

  it("masks a URL password in every form it is written, and each secret raw, URL-encoded, base64 and JSON-escaped", () => {
    const yaml = `${MINIMAL_YAML.replace("store: memory", 'store: "redis://bot:p%40ss%2Fw0rd@db:6379"')}github: { token: "\${GH}" }
`;
    const gh = 'ghp_a/b+c d"e';
    const loaded = parseConfig(yaml, "s.yaml", { GH: gh });
    const m = JSON.stringify(masked(loaded.config));
    expect(m).toContain("redis://bot:***@db:6379");
    const r = redactor(loaded.secrets);
    const forms = [
      "p%40ss%2Fw0rd", // as written in the URL
      "p@ss/w0rd", // decoded
      gh,
      encodeURIComponent(gh),
      Buffer.from(gh).toString("base64"),
      Buffer.from(gh).toString("base64url"),
      Buffer.from("p@ss/w0rd").toString("base64"),
      JSON.stringify(gh).slice(1, -1), // inside a JSON log line
    ];
    for (const f of forms) expect(r(`before ${f} after`), f).toBe("before *** after");
    // A malformed %-escape in a URL password is masked as written, and does not throw.
    const odd = parseConfig(MINIMAL_YAML.replace("store: memory", 'store: "redis://:abc%E0%A4@db:6379"'), "o.yaml", {});
    expect(JSON.stringify(masked(odd.config))).toContain("redis://:***@db:6379");
  });

  it("reads a file from disk with the file name in errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "bbcfg-"));
    const f = join(dir, "team.yaml");
    writeFileSync(f, "charts: 3\n");
    expect(() => loadConfig(f, {})).toThrow(new RegExp(`${f.replace(/[.]/g, "\\.")}[\\s\\S]*charts: expected array`));
  });
});

describe("a team config holds only what differs", () => {
  const team = (text: string) => {
    const f = join(mkdtempSync(join(tmpdir(), "bbteam-")), "team.yaml");
    writeFileSync(f, text);
    return f;
  };
  const shipped = loadConfig(DEFAULT_CONFIG, {}).config;

  it("takes the shipped charts and deploy when it has only adapters and access", () => {
    const f = team(`adapters:
  slack: { botToken: "\${SLACK_BOT_TOKEN}", appToken: "\${SLACK_APP_TOKEN}" }
access:
  roles: { maintainer: ["slack:U0123ABC"] }
`);
    const loaded = loadConfig(f, { SLACK_BOT_TOKEN: "xoxb-team-bot", SLACK_APP_TOKEN: "xapp-team-app" });
    expect(loaded.defaults).toBe(DEFAULT_CONFIG);
    expect(loaded.config.charts).toEqual(shipped.charts);
    expect(loaded.config.deploy).toEqual(shipped.deploy);
    expect(loaded.config.adapters.slack?.botToken).toBe("xoxb-team-bot");
    expect(loaded.config.access.roles).toEqual({ maintainer: ["slack:U0123ABC"] });
    expect(loaded.secrets.has("xapp-team-app")).toBe(true);
  });

  it("merges mappings key by key and replaces lists", () => {
    const f = team(`deploy: { branch: staging }
charts:
  - { name: jupyterhub, github: jupyterhub/zero-to-jupyterhub-k8s, git: /srv/z2jh.git, index: /srv/index.yaml }
`);
    const { config } = loadConfig(f, {});
    expect(config.deploy).toEqual({ ...shipped.deploy, branch: "staging" });
    expect(config.charts.map((c) => c.name)).toEqual(["jupyterhub"]);
  });

  it("names the team file in its problems", () => {
    const f = team("flood: { max: lots }\n");
    expect(() => loadConfig(f, {})).toThrow(new RegExp(`${f.replace(/[.]/g, "\\.")}[\\s\\S]*flood.max: expected number`));
  });
});
