import { retry } from "../common/backoff.ts";
import type { MatrixContext } from "./connection.ts";
import { matrixErrorLine } from "./errors.ts";

/**
 * The rooms the bot is in: the configured ones joined at start (aliases resolved through the room
 * directory, cached), and, with autojoin, any room it is invited to.
 */
export class Rooms {
  readonly #ctx: MatrixContext;
  readonly #configured: string[];
  readonly #autojoin: boolean;
  readonly #roomAlias: ((room: string) => string) | undefined;
  readonly #joined = new Set<string>();
  readonly #aliasCache = new Map<string, string>();
  readonly #joining = new Set<string>();

  constructor(
    ctx: MatrixContext,
    o: { rooms?: string[] | undefined; autojoin?: boolean | undefined; roomAlias?: ((room: string) => string) | undefined },
  ) {
    this.#ctx = ctx;
    this.#configured = o.rooms ?? [];
    this.#autojoin = o.autojoin ?? false;
    this.#roomAlias = o.roomAlias;
  }

  /** Room ids joined at start (configured rooms, aliases resolved). */
  get joined(): string[] {
    return [...this.#joined];
  }

  /** Resolves an alias through the directory (cached); room ids pass through. */
  async resolve(name: string): Promise<string> {
    const room = this.#roomAlias ? this.#roomAlias(name) : name;
    if (!room.startsWith("#")) return room;
    const cached = this.#aliasCache.get(room);
    if (cached) return cached;
    const api = this.#ctx.api();
    const res = await retry(() => api.getRoomIdForAlias(room), this.#ctx.retry(3));
    this.#aliasCache.set(room, res.room_id);
    return res.room_id;
  }

  /** Joins every configured room; one that cannot be joined is logged and skipped. */
  async joinConfigured(): Promise<void> {
    for (const room of this.#configured) {
      try {
        const id = await this.resolve(room);
        const api = this.#ctx.api();
        await retry(() => api.joinRoom(id), this.#ctx.retry(3));
        this.#ctx.log.info({ room, roomId: id }, `${this.#ctx.platform}: joined`);
        this.#joined.add(id);
      } catch (err) {
        this.#ctx.log.error({ room, err: matrixErrorLine(err) }, `${this.#ctx.platform}: could not join a configured room`);
      }
    }
  }

  /** The bot was invited to a room: join it when autojoin is on (once, however often the invite is seen). */
  invited(roomId: string, inviter: string | undefined): void {
    const { log, platform } = this.#ctx;
    if (!this.#autojoin) {
      log.info({ roomId, inviter }, `${platform}: invited, but autojoin is off; not joining`);
      return;
    }
    if (this.#joining.has(roomId)) return;
    this.#joining.add(roomId);
    const api = this.#ctx.api();
    retry(() => api.joinRoom(roomId), this.#ctx.retry(3))
      .then(() => log.info({ roomId, inviter }, `${platform}: joined on invitation`))
      .catch((err: unknown) => log.warn({ roomId, err: matrixErrorLine(err) }, `${platform}: could not join on invitation`))
      .finally(() => this.#joining.delete(roomId));
  }
}
