import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { commands } from "../src/commands/index.ts";
import { ConfigError } from "../src/config/load.ts";
import type { CommandSpec } from "../src/core/command.ts";
import { ok, para } from "../src/core/reply.ts";
import type { Services } from "../src/services.ts";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml, MINIMAL_YAML, say, testApp } from "./helpers/app.ts";

/** A command with a side effect, for the policy: it needs "operators" unless the config says otherwise. */
let ran = 0;
const deployNow: CommandSpec<Services> = {
  name: "deploy-now",
  summary: "test: a command with a side effect",
  args: [],
  examples: ["deploy-now"],
  access: ["operators"],
  sideEffects: "deploys",
  async run() {
    ran++;
    return ok([para("deployed")]);
  },
};
const withDeploy = [...commands, deployNow];

const ACCESS = `access:
  roles:
    operators: ["slack:UOPS1", "matrix:@alice:example.org", "shell:local"]
    admins: ["slack:UADMIN"]
    everyone-on-matrix: ["matrix:*"]
`;

interface Case {
  name: string;
  access?: string;
  as: { platform: string; userId: string; room?: string; displayName?: string };
  allowed: boolean;
  says?: string[];
}

const cases: Case[] = [
  { name: "a listed Slack id", as: { platform: "slack", userId: "UOPS1" }, allowed: true },
  { name: "a listed Matrix id", as: { platform: "matrix", userId: "@alice:example.org" }, allowed: true },
  { name: "the terminal user", as: { platform: "shell", userId: "local" }, allowed: true },
  {
    name: "an unlisted user: the denial names the role and who holds it",
    as: { platform: "slack", userId: "UMALLORY" },
    allowed: false,
    says: ["needs the role operators", "held by slack:UOPS1, matrix:@alice:example.org, shell:local", "slack:UMALLORY"],
  },
  {
    name: "a display name that looks like a listed id grants nothing",
    as: { platform: "slack", userId: "UMALLORY", displayName: "UOPS1" },
    allowed: false,
  },
  { name: "the same id on another platform is another user", as: { platform: "gitter", userId: "UOPS1" }, allowed: false },
  {
    name: "access.commands overrides the spec's roles",
    access: "  commands:\n    deploy-now: [admins]\n",
    as: { platform: "slack", userId: "UOPS1" },
    allowed: false,
    says: ["needs the role admins (held by slack:UADMIN)"],
  },
  {
    name: "access.commands can open a command to a platform-wide role",
    access: "  commands:\n    deploy-now: [everyone-on-matrix]\n",
    as: { platform: "matrix", userId: "@bob:example.org" },
    allowed: true,
  },
  {
    name: "a room allow-list refuses other rooms, naming them",
    access: "  commands:\n    deploy-now: { roles: [operators], rooms: [slack:COPS] }\n",
    as: { platform: "slack", userId: "UOPS1", room: "CRANDOM" },
    allowed: false,
    says: ["runs only in slack:COPS", "this room is slack:CRANDOM"],
  },
  {
    name: "a room allow-list lets the role run it in the listed room",
    access: "  commands:\n    deploy-now: { roles: [operators], rooms: [slack:COPS] }\n",
    as: { platform: "slack", userId: "UOPS1", room: "COPS" },
    allowed: true,
  },
  {
    name: "a role nobody holds says so",
    access: "  commands:\n    deploy-now: [admins]\n",
    as: { platform: "slack", userId: "UOPS1" },
    allowed: false,
    says: ["admins"],
  },
];

describe("access policy (table)", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const app = await testApp(`${MINIMAL_YAML}${ACCESS}${c.access ?? ""}`, { commands: withDeploy });
      const before = ran;
      const r = await say(app, "!binder deploy-now", { room: c.as.room ?? "room1", ...c.as });
      expect(r?.ok).toBe(c.allowed);
      expect(ran - before).toBe(c.allowed ? 1 : 0);
      for (const s of c.says ?? []) expect(r?.error).toContain(s);
      await app.close();
    });
  }
});

describe("access policy: config errors at start", () => {
  const bad: Array<[string, string, string]> = [
    [
      "an unknown role in access.commands",
      "  roles: { operators: [shell:local] }\n  commands: { deploy-now: [operatorz] }\n",
      "unknown role 'operatorz'",
    ],
    ["an unknown command", "  commands: { deploy-later: [user] }\n", "there is no command 'deploy-later'"],
    ["a Slack display name", "  roles: { operators: [slack:alice] }\n", "'slack:alice' is not a Slack member id"],
    ["a Matrix display name", "  roles: { operators: [matrix:Alice] }\n", "'matrix:Alice' is not a Matrix user id"],
    [
      "a Matrix alias in a room allow-list",
      "  roles: { operators: [shell:local] }\n  commands: { deploy-now: { rooms: ['matrix:#ops:example.org'] } }\n",
      "not a Matrix room id",
    ],
    [
      "a Slack channel name in a room allow-list",
      "  commands: { deploy-now: { rooms: ['slack:ops'] } }\n",
      "not a Slack channel id",
    ],
    ["a display name linked to GitHub", "  github: { org: jupyterhub, users: { 'slack:bob': bob } }\n", "'slack:bob'"],
  ];
  for (const [name, access, want] of bad) {
    it(name, async () => {
      const err = await testApp(`${MINIMAL_YAML}access:\n${access}`, { commands: withDeploy }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(want);
    });
  }
});

describe("access policy: a role granted by GitHub team membership (through a fake GitHub)", () => {
  let gh: FakeGitHub;
  let app: App;
  beforeAll(async () => {
    gh = await startFakeGitHub();
    gh.setTeamMembers("jupyterhub", "mybinder-operators", { octo: "active", pend: "pending" });
    const yaml = `${chartBotYaml({ githubUrl: gh.url })}access:
  github:
    org: jupyterhub
    team: mybinder-operators
    role: operators
    users: { "slack:UOCTO": octo, "slack:UPEND": pend, "slack:USTRANGER": stranger, "slack:UNEW": newbie }
`;
    app = await testApp(yaml, { commands: withDeploy });
  });
  afterAll(async () => {
    await app.close();
    await gh.close();
  });

  it("grants the role to an active member, once asked, then from the cache", async () => {
    const r = await say(app, "!binder deploy-now", { platform: "slack", userId: "UOCTO" });
    expect(r?.ok).toBe(true);
    expect(gh.requestsTo("/orgs/jupyterhub/teams/mybinder-operators/memberships/octo")).toHaveLength(1);
    expect((await say(app, "!binder deploy-now", { platform: "slack", userId: "UOCTO" }))?.ok).toBe(true);
    expect(gh.requestsTo("/orgs/jupyterhub/teams/mybinder-operators/memberships/octo")).toHaveLength(1);
    const who = await say(app, "!binder whoami", { platform: "slack", userId: "UOCTO" });
    expect(who?.data).toMatchObject({ roles: ["user", "operators"], github: "octo" });
  });

  it("does not grant it to a pending member, a non-member or an unlinked user; the denial names the team", async () => {
    for (const userId of ["UPEND", "USTRANGER", "UNOLINK"]) {
      const r = await say(app, "!binder deploy-now", { platform: "slack", userId });
      expect(r?.ok).toBe(false);
      expect(r?.error).toContain("members of GitHub team jupyterhub/mybinder-operators linked in access.github.users");
    }
  });

  it("a token that may not read the team: denied, with the permission it needs (not cached)", async () => {
    gh.setTeamMembers("jupyterhub", "mybinder-operators", { octo: "active", newbie: "active" });
    gh.failNext("/orgs/jupyterhub/teams/mybinder-operators/memberships/newbie", 403, { message: "Must have admin rights" });
    const r = await say(app, "!binder deploy-now", { platform: "slack", userId: "UNEW" });
    expect(r?.ok).toBe(false);
    expect(r?.error).toContain("needs read:org");
    // the failure was not cached: the next ask goes to GitHub again, and the member gets the role
    expect((await say(app, "!binder deploy-now", { platform: "slack", userId: "UNEW" }))?.ok).toBe(true);
  });
});
