import type { Message } from "./message.ts";
import type { Reply } from "./reply.ts";

/**
 * A message the bot has posted, as the platform knows it: enough to edit it later. Commands treat it
 * as opaque and only hand it back to `update`.
 */
export interface Posted {
  room: string;
  thread?: string;
  /** The platform's id of the posted message: Slack `ts`, Matrix event id, a line number in the terminal. */
  id: string;
}

/**
 * How the core speaks on a platform outside the answer to a message: a new message in a room
 * (optionally in `reply.thread`), and an edit of one posted before. Every adapter implements it, and
 * so does `ask`. Where a platform cannot edit (the terminal), `update` posts the new text as a new
 * message and returns where that landed.
 */
export interface Outlet {
  send(room: string, reply: Reply): Promise<Posted>;
  update(posted: Posted, reply: Reply): Promise<Posted>;
  /**
   * False when nothing said after the answer would reach anyone (one-shot `ask` without --follow):
   * commands then do not promise a later message. Default true.
   */
  readonly lasting?: boolean;
  /**
   * Resolves once the answer to the message being handled is posted (or dropped). Work a command
   * runs `later` waits for it, so a follow-up never lands before the answer. Set by `answering`.
   */
  readonly answered?: Promise<void>;
}

/**
 * For adapters: the outlet to hand the core with one incoming message. Call `done()` once the answer
 * is posted (or there is none, or posting failed), so the command's later messages come after it.
 */
export function answering(outlet: Outlet): { outlet: Outlet; done: () => void } {
  let done!: () => void;
  const answered = new Promise<void>((resolve) => {
    done = resolve;
  });
  return {
    outlet: {
      send: (room, reply) => outlet.send(room, reply),
      update: (posted, reply) => outlet.update(posted, reply),
      lasting: outlet.lasting ?? true,
      answered,
    },
    done,
  };
}

/**
 * What an adapter calls for each incoming message; null means say nothing. The adapter passes itself
 * (its Outlet), so a command can speak again later in the asker's room and thread.
 */
export type MessageHandler = (msg: Message, outlet?: Outlet) => Promise<Reply | null>;

export interface AdapterStatus {
  /** Connected and able to receive and send. */
  connected: boolean;
  /** When the adapter last heard anything from its platform (ms since epoch). */
  lastActivity?: number;
  detail?: string;
}

/**
 * The port every chat platform implements. The core defines it and never imports an
 * implementation; adapters know nothing of commands. `send` says something unasked (notifications)
 * in a room, in `reply.thread` when set; `update` edits what `send` returned.
 */
export interface Adapter extends Outlet {
  readonly platform: string;
  /** Connects and starts delivering messages to `handler`. Rejects with a clear error when it cannot. */
  start(handler: MessageHandler): Promise<void>;
  stop(): Promise<void>;
  /**
   * The shutdown deadline passed while answers were still in progress: post none of them and leave
   * their events unhandled, so the platform's redelivery to the next process is answered.
   */
  abandon?(): void;
  status(): AdapterStatus;
}
