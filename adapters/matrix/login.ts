import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { createClient, type MatrixClient, MatrixError } from "matrix-js-sdk";
import { networkCause } from "../../src/core/network.ts";
import { errorLine } from "../../src/core/one-line.ts";
import { matrixErrorLine } from "./errors.ts";

export interface Credentials {
  /** Client-server API base URL, without a trailing slash. */
  homeserver: string;
  /** Expected user id; needed for a password login, checked against whoami otherwise. */
  userId?: string | undefined;
  accessToken?: string | undefined;
  password?: string | undefined;
  fetchFn?: typeof fetch | undefined;
}

/** Who the bot is on the homeserver, and a client for plain requests (joins, lookups, sends). */
export interface Session {
  api: MatrixClient;
  userId: string;
  token: string;
  deviceId: string | undefined;
}

/**
 * Takes the access token as is (or logs in with the password) and checks it with whoami, so a refused
 * token, or one that belongs to another account than userId, fails the start with one clear line.
 */
export async function login(c: Credentials): Promise<Session> {
  const hs = c.homeserver;
  const base = { baseUrl: hs, fetchFn: keepCause(c.fetchFn ?? fetch), useAuthorizationHeader: true };
  let token: string;
  let deviceId: string | undefined;
  if (c.accessToken) {
    token = c.accessToken;
  } else {
    const anon = createClient(base);
    try {
      const res = await anon.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: c.userId as string },
        password: c.password as string,
        initial_device_display_name: "binderbot",
      });
      token = res.access_token;
      deviceId = res.device_id;
    } catch (err) {
      throw notReached(hs, err) ?? new Error(`password login as ${c.userId} at ${hs} failed: ${matrixErrorLine(err)}`);
    }
  }
  let who: { user_id: string; device_id?: string };
  try {
    who = await createClient({ ...base, accessToken: token }).whoami();
  } catch (err) {
    const notOk = notReached(hs, err);
    if (notOk) throw notOk;
    if (!refused(err)) throw new Error(`${hs} could not check the bot's credentials: ${matrixErrorLine(err)}`);
    const why =
      httpStatus(err) === 401 || (err instanceof MatrixError && err.errcode === "M_UNKNOWN_TOKEN")
        ? "the access token was refused (M_UNKNOWN_TOKEN): make a new one for the bot account"
        : matrixErrorLine(err);
    throw new Error(`${hs} did not accept the bot's credentials: ${why}`);
  }
  if (c.userId && who.user_id !== c.userId) {
    throw new Error(`the token belongs to ${who.user_id}, but userId is ${c.userId}`);
  }
  deviceId ??= who.device_id;
  const api = createClient({
    ...base,
    accessToken: token,
    userId: who.user_id,
    ...(deviceId ? { deviceId } : {}),
  });
  return { api, userId: who.user_id, token, deviceId };
}

/** The homeserver answered 401/403: the credentials, not the network, are the problem. */
function refused(err: unknown): boolean {
  const status = httpStatus(err);
  return status === 401 || status === 403 || (err instanceof MatrixError && err.errcode === "M_UNKNOWN_TOKEN");
}

/** The HTTP status the homeserver (or a proxy in front of it) answered with, if it answered. */
function httpStatus(err: unknown): number | undefined {
  const s = (err as { httpStatus?: unknown } | null)?.httpStatus;
  return typeof s === "number" ? s : undefined;
}

/** "cannot reach <homeserver>: <cause>" when no HTTP answer came back at all (DNS, refused, timeout). */
function notReached(hs: string, err: unknown): Error | null {
  if (err instanceof MatrixError || httpStatus(err) !== undefined) return null;
  return new Error(`cannot reach ${hs}: ${errorLine(err).replace(/^fetch failed: /, "")}`);
}

/**
 * The SDK's ConnectionError keeps only the message of what fetch threw ("fetch failed"); the real
 * cause (ENOTFOUND, ECONNREFUSED) is one level further down. Rethrown with that cause as the message.
 */
function keepCause(f: typeof fetch): typeof fetch {
  return (input, init) =>
    f(input, init).catch((err: unknown) => {
      if ((err as { name?: unknown })?.name === "AbortError") throw err;
      throw new TypeError(networkCause(err), { cause: err });
    });
}
