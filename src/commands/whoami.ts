import type { CommandSpec } from "../core/command.ts";
import { code, fields, ok } from "../core/reply.ts";
import type { Services } from "../services.ts";

export const whoami: CommandSpec<Services> = {
  name: "whoami",
  summary: "Your platform user id and the roles the access policy gives you",
  description:
    "Access rules key on the immutable platform user id shown here (never on a display name). Give it to an admin to be added to a role under access.roles (or linked to your GitHub login under access.github.users).",
  args: [],
  examples: ["whoami"],
  access: "anyone",
  sideEffects: null,
  intents: [{ pattern: /^who am i\b/i, example: "who am I?" }],
  async run(ctx) {
    const m = ctx.message;
    const ref = `${m.platform}:${m.userId}`;
    const gh = ctx.services.config.access.github;
    const login = gh?.users[ref];
    const linked: Array<[string, string]> =
      gh && login
        ? [["GitHub", `${login} (${gh.team ? `team ${gh.org}/${gh.team}` : `org ${gh.org}`} gives the role ${gh.role})`]]
        : [];
    return ok(
      [
        fields([
          ["User", code(ref)],
          ...(m.displayName ? ([["Name", m.displayName]] as Array<[string, string]>) : []),
          ["Roles", ctx.roles.join(", ")],
          ...linked,
        ]),
      ],
      { platform: m.platform, userId: m.userId, ref, roles: ctx.roles, ...(login ? { github: login } : {}) },
    );
  },
};
