import type { CommandSpec } from "./command.ts";
import { type Message, userRef } from "./message.ts";

/**
 * Who may run what. Rules key on immutable `platform:userId` references (never display names);
 * `platform:*` grants a role to every user of a platform. Every user has the role "user".
 */
export class AccessPolicy {
  constructor(private readonly roles: Readonly<Record<string, readonly string[]>> = {}) {}

  rolesFor(msg: Pick<Message, "platform" | "userId">): string[] {
    const me = userRef(msg);
    const out = ["user"];
    for (const [role, members] of Object.entries(this.roles)) {
      if (members.some((m) => m === me || m === `${msg.platform}:*`)) out.push(role);
    }
    return out;
  }

  check<S>(spec: CommandSpec<S>, msg: Pick<Message, "platform" | "userId">): { allowed: true } | { allowed: false; why: string } {
    if (spec.access === "anyone") return { allowed: true };
    const mine = this.rolesFor(msg);
    if (spec.access.some((r) => mine.includes(r))) return { allowed: true };
    const who = spec.access.map((r) => `${r} (${(this.roles[r] ?? []).length} configured)`).join(" or ");
    return {
      allowed: false,
      why: `'${spec.name}' is for ${who}; you are ${userRef(msg)} with roles: ${mine.join(", ")}. Ask someone with that role, or an admin to add you under access.roles in the config.`,
    };
  }
}
