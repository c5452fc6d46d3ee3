import type { Config } from "../config/schema.ts";
import { notifyTopics } from "../config/schema.ts";
import type { Store } from "../store/store.ts";

export type Topic = (typeof notifyTopics)[number];
export const TOPICS: readonly Topic[] = notifyTopics;

/** Where an unasked message goes: a room, and a thread in it when there is one. */
export interface Target {
  platform: string;
  room: string;
  thread?: string | null;
}

/** Stored changes made with `!binder watch|unwatch`, room ("platform:room") → its topics. */
const KEY = "notify:subscriptions";

/**
 * Which rooms are told what: `notify.rooms` in config gives the defaults, and `!binder watch` /
 * `unwatch` store a room's own list, which then replaces the config's for that room.
 */
export class Subscriptions {
  constructor(
    private readonly config: Config["notify"],
    private readonly store: Store,
  ) {}

  /** Every room with its topics (config overlaid with what was stored). */
  async all(): Promise<Map<string, Topic[]>> {
    const out = new Map<string, Topic[]>();
    for (const [room, topics] of Object.entries(this.config.rooms)) out.set(room, [...new Set(topics)]);
    const stored = (await this.store.get<Record<string, Topic[]>>(KEY)) ?? {};
    for (const [room, topics] of Object.entries(stored)) out.set(room, topics);
    return out;
  }

  /** The rooms subscribed to `topic`. */
  async rooms(topic: Topic): Promise<Target[]> {
    const out: Target[] = [];
    for (const [ref, topics] of await this.all()) if (topics.includes(topic)) out.push(parseRoomRef(ref));
    return out;
  }

  /** A room's topics. */
  async of(platform: string, room: string): Promise<Topic[]> {
    return (await this.all()).get(roomRef(platform, room)) ?? [];
  }

  /** Adds (`on`) or removes topics for a room; returns its topics afterwards. */
  async change(platform: string, room: string, topics: readonly Topic[], on: boolean): Promise<Topic[]> {
    const ref = roomRef(platform, room);
    const base = (this.config.rooms[ref] as Topic[] | undefined) ?? [];
    let after: Topic[] = [];
    await this.store.update<Record<string, Topic[]>>(KEY, (cur) => {
      const current = new Set(cur?.[ref] ?? base);
      for (const t of topics) {
        if (on) current.add(t);
        else current.delete(t);
      }
      after = TOPICS.filter((t) => current.has(t));
      return { ...(cur ?? {}), [ref]: after };
    });
    return after;
  }
}

function roomRef(platform: string, room: string): string {
  return `${platform}:${room}`;
}

/** "slack:C0123" → {platform: "slack", room: "C0123"}; a Matrix room id keeps its own colons. */
function parseRoomRef(ref: string): Target {
  const i = ref.indexOf(":");
  return { platform: ref.slice(0, i), room: ref.slice(i + 1) };
}
