import type { Config } from "../../src/config/schema.ts";
import { MatrixAdapter, type MatrixAdapterOptions, type MatrixDeps, matrixOptions } from "../matrix/matrix.ts";

/**
 * Gitter is Matrix since 2023-02-13: its old REST/streaming API and tokens are gone. A Gitter room
 * `gitter.im/org/room` is the Matrix room `#org_room:gitter.im`, served by the homeserver
 * `https://gitter.ems.host`. So the Gitter adapter is the Matrix adapter with this profile.
 */
export const GITTER_HOMESERVER = "https://gitter.ems.host";
const GITTER_SERVER_NAME = "gitter.im";

export type GitterConfig = NonNullable<Config["adapters"]["gitter"]>;

/**
 * Maps a room as people write it on Gitter to its Matrix alias:
 * `gitter.im/jupyterhub/binder`, `https://gitter.im/jupyterhub/binder` or `jupyterhub/binder` →
 * `#jupyterhub_binder:gitter.im`. Matrix room ids (`!…`) and aliases (`#…`) pass through.
 */
export function gitterRoomAlias(room: string): string {
  const r = room.trim();
  if (r.startsWith("#") || r.startsWith("!")) return r;
  const path = r
    .replace(/^https?:\/\//i, "")
    .replace(/^(?:app\.)?gitter\.im\//i, "")
    .replace(/[?#].*$/, "")
    .replace(/\/+$/, "");
  const parts = path.split("/");
  if (path === "" || parts.some((p) => !/^[\w.-]+$/.test(p))) {
    throw new Error(`gitter: cannot read the room '${room}' (expected gitter.im/org/room, #alias:server or !roomid:server)`);
  }
  return `#${parts.join("_")}:${GITTER_SERVER_NAME}`;
}

/** Adapter options from the `adapters.gitter` config section: Matrix, with the Gitter profile. */
function gitterOptions(cfg: GitterConfig, deps: MatrixDeps): MatrixAdapterOptions {
  const homeserver = cfg.homeserver ?? GITTER_HOMESERVER;
  return {
    ...matrixOptions({ ...cfg, homeserver, rooms: cfg.rooms.map(gitterRoomAlias) }, deps),
    platform: "gitter",
    // Rooms may be written the Gitter way everywhere (notifications too): `gitter.im/org/room`.
    roomAlias: gitterRoomAlias,
  };
}

/** The Gitter adapter: a MatrixAdapter whose platform is "gitter" (access rules: `gitter:@user:gitter.im`). */
export class GitterAdapter extends MatrixAdapter {
  constructor(cfg: GitterConfig, deps: MatrixDeps, overrides: Partial<MatrixAdapterOptions> = {}) {
    super({ ...gitterOptions(cfg, deps), ...overrides });
  }
}
