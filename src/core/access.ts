import type { CommandSpec } from "./command.ts";
import { type Message, userRef } from "./message.ts";
import { errorLine } from "./one-line.ts";

/** Grants one role to chat users linked to GitHub logins that belong to an org (or one of its teams). */
export interface GithubGrant {
  /** The role granted, e.g. "operators". */
  role: string;
  /** Chat user ref (`slack:U…`) → GitHub login. */
  users: Readonly<Record<string, string>>;
  /** "org" or "org/team", for messages. */
  describe: string;
  /** Whether the login is a member now (the implementation caches; errors reject). */
  isMember(login: string): Promise<boolean>;
}

/** Per-command overrides: which roles may run it, and in which rooms (`platform:roomId`). */
export interface CommandRule {
  roles?: readonly string[];
  rooms?: readonly string[];
}

export interface AccessOptions {
  roles?: Readonly<Record<string, readonly string[]>>;
  commands?: Readonly<Record<string, CommandRule>>;
  github?: GithubGrant;
}

export type AccessDecision = { allowed: true } | { allowed: false; why: string };

/**
 * Who may run what. Rules key on immutable `platform:userId` references (never display names);
 * `platform:*` grants a role to every user of a platform. Every user has the role "user". A command
 * runs for the roles its spec names, or those `access.commands.<name>.roles` puts instead, and only in
 * the rooms `access.commands.<name>.rooms` lists, when it lists any. A role can also come from GitHub:
 * a chat user linked to a login that is a member of the configured org / team.
 */
export class AccessPolicy {
  readonly #roles: Readonly<Record<string, readonly string[]>>;
  readonly #commands: Readonly<Record<string, CommandRule>>;
  readonly #github: GithubGrant | undefined;

  constructor(opts: AccessOptions = {}) {
    this.#roles = opts.roles ?? {};
    this.#commands = opts.commands ?? {};
    this.#github = opts.github;
  }

  /** The roles the sender holds; a GitHub membership check that fails is reported, not fatal. */
  async rolesFor(msg: Pick<Message, "platform" | "userId">): Promise<{ roles: string[]; problem?: string }> {
    const me = userRef(msg);
    const roles = ["user"];
    for (const [role, members] of Object.entries(this.#roles)) {
      if (members.some((m) => m === me || m === `${msg.platform}:*`)) roles.push(role);
    }
    const gh = this.#github;
    const login = gh?.users[me];
    if (gh && login && !roles.includes(gh.role)) {
      try {
        if (await gh.isMember(login)) roles.push(gh.role);
      } catch (err) {
        return { roles, problem: `I could not check GitHub membership of ${login} in ${gh.describe}: ${errorLine(err)}` };
      }
    }
    return { roles };
  }

  /** The roles that may run a command: the config's override, else the spec's. */
  rolesNeeded<S>(spec: CommandSpec<S>): "anyone" | readonly string[] {
    return this.#commands[spec.name]?.roles ?? spec.access;
  }

  async check<S>(spec: CommandSpec<S>, msg: Pick<Message, "platform" | "userId" | "room">): Promise<AccessDecision> {
    const rule = this.#commands[spec.name];
    const room = `${msg.platform}:${msg.room}`;
    if (rule?.rooms && rule.rooms.length > 0 && !rule.rooms.includes(room))
      return {
        allowed: false,
        why: `'${spec.name}' runs only in ${rule.rooms.join(", ")} (access.commands.${spec.name}.rooms); this room is ${room}.`,
      };
    const needed = this.rolesNeeded(spec);
    if (needed === "anyone" || needed.includes("user")) return { allowed: true };
    const mine = await this.rolesFor(msg);
    if (needed.some((r) => mine.roles.includes(r))) return { allowed: true };
    const who = needed.map((r) => `${r} (${this.holders(r)})`).join(" or ");
    return {
      allowed: false,
      why:
        `'${spec.name}' needs the role ${who}; you are ${userRef(msg)} with roles: ${mine.roles.join(", ")}.` +
        (mine.problem ? ` ${mine.problem}.` : "") +
        " Ask someone with that role, or an admin to add your id under access.roles in the config.",
    };
  }

  /** Who holds a role, for denials: the configured ids (the first few) and the GitHub grant. */
  holders(role: string): string {
    const ids = this.#roles[role] ?? [];
    const parts: string[] = [];
    if (ids.length > 0) parts.push(`held by ${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ` and ${ids.length - 5} more` : ""}`);
    if (this.#github?.role === role) parts.push(`members of GitHub ${this.#github.describe} linked in access.github.users`);
    return parts.length ? parts.join("; ") : "nobody holds it yet";
  }
}

const ROLE = /^[a-z][a-z0-9_-]*$/;

/** Immutable user ids per platform; anything else there is most likely a display name. */
const USER_ID: Record<string, { re: RegExp; want: string }> = {
  slack: { re: /^[UW][A-Z0-9]{2,}$/, want: "a Slack member id like U0123ABC (profile → ⋮ → Copy member ID)" },
  matrix: { re: /^@[^:\s]+:\S+$/, want: "a Matrix user id like @alice:example.org" },
  gitter: { re: /^@[^:\s]+:\S+$/, want: "a Matrix user id like @alice:gitter.im" },
  shell: { re: /^[\w.-]+$/, want: "a word like local (the terminal user is shell:local)" },
};

/** Immutable room ids per platform (never a channel name or a Matrix alias, which can move). */
const ROOM_ID: Record<string, { re: RegExp; want: string }> = {
  slack: { re: /^[CGD][A-Z0-9]{2,}$/, want: "a Slack channel id like C0123ABC" },
  matrix: { re: /^![^:\s]+:\S+$/, want: "a Matrix room id like !abc:example.org (not an #alias)" },
  gitter: { re: /^![^:\s]+:\S+$/, want: "a Matrix room id like !abc:gitter.im (not an #alias)" },
  shell: { re: /^[\w.-]+$/, want: "terminal (or ask)" },
};

function idProblem(ref: string, kinds: Record<string, { re: RegExp; want: string }>, allowStar: boolean): string | null {
  const i = ref.indexOf(":");
  const platform = ref.slice(0, i);
  const id = ref.slice(i + 1);
  if (allowStar && id === "*") return null;
  const k = kinds[platform];
  if (!k || k.re.test(id)) return null;
  return `'${ref}' is not ${k.want}; display names and aliases can change, so access rules take immutable ids only`;
}

/**
 * Problems with an access policy, found at start (config errors): unknown roles or commands named,
 * display names or aliases where immutable ids belong.
 */
export function accessProblems(
  access: {
    roles: Readonly<Record<string, readonly string[]>>;
    commands: Readonly<Record<string, CommandRule>>;
    github?: { role: string; users: Readonly<Record<string, string>> } | undefined;
  },
  commandNames: readonly string[],
): string[] {
  const out: string[] = [];
  const known = new Set(["user", ...Object.keys(access.roles), ...(access.github ? [access.github.role] : [])]);
  for (const [role, members] of Object.entries(access.roles)) {
    if (!ROLE.test(role)) out.push(`access.roles.${role}: a role name is lower-case letters, digits, '-' and '_'`);
    members.forEach((m, i) => {
      const p = idProblem(m, USER_ID, true);
      if (p) out.push(`access.roles.${role}[${i}]: ${p}`);
    });
  }
  for (const [name, rule] of Object.entries(access.commands)) {
    if (!commandNames.includes(name))
      out.push(`access.commands.${name}: there is no command '${name}' (commands: ${commandNames.join(", ")})`);
    for (const role of rule.roles ?? [])
      if (!known.has(role))
        out.push(
          `access.commands.${name}: unknown role '${role}' (roles: ${[...known].join(", ")}; define it under access.roles)`,
        );
    (rule.rooms ?? []).forEach((r, i) => {
      const p = idProblem(r, ROOM_ID, false);
      if (p) out.push(`access.commands.${name}.rooms[${i}]: ${p}`);
    });
  }
  for (const ref of Object.keys(access.github?.users ?? {})) {
    const p = idProblem(ref, USER_ID, false);
    if (p) out.push(`access.github.users.${ref}: ${p}`);
  }
  return out;
}
