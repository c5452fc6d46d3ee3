/** One chat message, as every platform adapter hands it to the core. */
export interface Message {
  /** Platform name: "shell", "slack", "matrix", "gitter", … */
  platform: string;
  /** Room / channel id on that platform (never a display name). */
  room: string;
  /** Immutable platform user id (Slack `U…`, Matrix `@user:server`). Access rules key on this. */
  userId: string;
  /** Human-readable name, for replies only; never used for access decisions. */
  displayName?: string;
  /** The text as the user wrote it, with platform mention markup already normalised by the adapter. */
  text: string;
  /** Thread root the message belongs to, when it was said in a thread. */
  thread?: string;
  /** Platform event id, used for deduplication and logs. */
  eventId: string;
  /**
   * True when the platform itself says the bot was addressed (a direct message, a Slack
   * app_mention, a Matrix mention pill). The text then needs no prefix or name.
   */
  addressed?: boolean;
  /**
   * Said by the person at this machine (the terminal, `binderbot ask`), not in a shared room:
   * flood control, which protects rooms from bursts, never applies.
   */
  local?: boolean;
}

/** A fully-qualified user reference, `platform:userId`, as used in access rules. */
export function userRef(msg: Pick<Message, "platform" | "userId">): string {
  return `${msg.platform}:${msg.userId}`;
}
