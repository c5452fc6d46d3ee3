import "./sdk-logger.ts"; // before the SDK (see sdk-logger.ts)

import { createClient, type MatrixClient, MatrixError } from "matrix-js-sdk";
import { oneLine } from "./errors.ts";

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
  const base = { baseUrl: hs, ...(c.fetchFn ? { fetchFn: c.fetchFn } : {}), useAuthorizationHeader: true };
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
      throw new Error(`password login as ${c.userId} at ${hs} failed: ${oneLine(err)}`);
    }
  }
  let who: { user_id: string; device_id?: string };
  try {
    who = await createClient({ ...base, accessToken: token }).whoami();
  } catch (err) {
    const why =
      err instanceof MatrixError && (err.httpStatus === 401 || err.errcode === "M_UNKNOWN_TOKEN")
        ? "the access token was refused (M_UNKNOWN_TOKEN): make a new one for the bot account"
        : oneLine(err);
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
