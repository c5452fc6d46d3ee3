import type { Message } from "./message.ts";
import type { Reply } from "./reply.ts";

/** What an adapter calls for each incoming message; null means say nothing. */
export type MessageHandler = (msg: Message) => Promise<Reply | null>;

export interface AdapterStatus {
  /** Connected and able to receive and send. */
  connected: boolean;
  /** When the adapter last heard anything from its platform (ms since epoch). */
  lastActivity?: number;
  detail?: string;
}

/**
 * The port every chat platform implements. The core defines it and never imports an
 * implementation; adapters know nothing of commands.
 */
export interface Adapter {
  readonly platform: string;
  /** Connects and starts delivering messages to `handler`. Rejects with a clear error when it cannot. */
  start(handler: MessageHandler): Promise<void>;
  /** Says something unasked (notifications) in a room, optionally in a thread. */
  send(room: string, reply: Reply): Promise<void>;
  stop(): Promise<void>;
  status(): AdapterStatus;
}
