import type { GithubGrant } from "../core/access.ts";
import type { Octokit } from "./client.ts";

export interface MembershipOptions {
  org: string;
  team?: string | undefined;
  role: string;
  users: Readonly<Record<string, string>>;
  cacheSeconds: number;
  octokit: () => Octokit;
  now?: () => number;
}

/**
 * Membership of a GitHub org or team, as the access policy's GitHub grant (the check Prow makes for
 * trusted users): `GET /orgs/{org}/teams/{team}/memberships/{login}` (active) or
 * `GET /orgs/{org}/members/{login}` (204). Answers are cached per login; a failed check is not cached.
 */
export function githubMembership(o: MembershipOptions): GithubGrant {
  const now = o.now ?? Date.now;
  const cache = new Map<string, { member: boolean; until: number }>();
  const ask = async (login: string): Promise<boolean> => {
    const gh = o.octokit();
    try {
      if (o.team) {
        const r = await gh.rest.teams.getMembershipForUserInOrg({ org: o.org, team_slug: o.team, username: login });
        return r.data.state === "active";
      }
      await gh.rest.orgs.checkMembershipForUser({ org: o.org, username: login });
      return true;
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404 || status === 302) return false; // not a member (302: the token cannot see members)
      if (status === 401 || status === 403)
        throw new Error(`GitHub answered ${status}: the token needs read:org (members) to check memberships`);
      throw err;
    }
  };
  return {
    role: o.role,
    users: o.users,
    describe: o.team ? `team ${o.org}/${o.team}` : `org ${o.org}`,
    async isMember(login) {
      const hit = cache.get(login);
      if (hit && hit.until > now()) return hit.member;
      const member = await ask(login);
      cache.set(login, { member, until: now() + o.cacheSeconds * 1000 });
      return member;
    },
  };
}
