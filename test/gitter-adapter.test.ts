import { afterEach, describe, expect, it } from "vitest";
import { GITTER_HOMESERVER, gitterRoomAlias } from "../adapters/gitter/gitter.ts";
import { escapeHtml } from "../adapters/matrix/render.ts";
import type { App } from "../src/app.ts";
import { buildAdapters } from "../src/cli/adapters.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Adapter } from "../src/core/adapter.ts";
import { FakeHomeserver } from "./fakes/matrix-homeserver.ts";
import { MINIMAL_YAML, testApp } from "./helpers/app.ts";

describe("Gitter room names", () => {
  it.each([
    ["gitter.im/jupyterhub/binder", "#jupyterhub_binder:gitter.im"],
    ["https://gitter.im/jupyterhub/mybinder.org-deploy", "#jupyterhub_mybinder.org-deploy:gitter.im"],
    ["jupyterhub/binder", "#jupyterhub_binder:gitter.im"],
    ["gitter.im/jupyterhub", "#jupyterhub:gitter.im"],
    ["https://app.gitter.im/jupyterhub/binder/", "#jupyterhub_binder:gitter.im"],
    ["#already_an:alias.org", "#already_an:alias.org"],
    ["!roomid:gitter.im", "!roomid:gitter.im"],
  ])("%s → %s", (room, alias) => {
    expect(gitterRoomAlias(room)).toBe(alias);
  });

  it("refuses what is not a room", () => {
    expect(() => gitterRoomAlias("gitter.im/")).toThrow(/expected gitter.im\/org\/room/);
    expect(() => gitterRoomAlias("gitter.im/a b/c")).toThrow(/cannot read the room/);
  });
});

describe("Gitter config", () => {
  it("defaults to the gitter.ems.host homeserver and checks room names", () => {
    const ok = parseConfig(
      `${MINIMAL_YAML}adapters:\n  gitter: { accessToken: t, rooms: ["gitter.im/jupyterhub/binder"] }\n`,
      "t.yaml",
      {},
    );
    expect(ok.config.adapters.gitter?.homeserver).toBe(GITTER_HOMESERVER);
    expect(GITTER_HOMESERVER).toBe("https://gitter.ems.host");
    expect(() =>
      parseConfig(`${MINIMAL_YAML}adapters:\n  gitter: { accessToken: t, rooms: ["not a room"] }\n`, "t.yaml", {}),
    ).toThrow(/gitter\.im\/org\/room/);
  });

  it("a Matrix section needs an access token or a password", () => {
    expect(() =>
      parseConfig(`${MINIMAL_YAML}adapters:\n  matrix: { homeserver: "https://m.org", userId: "@b:m.org" }\n`, "t.yaml", {}),
    ).toThrow(/accessToken \(or password\)/);
  });
});

describe("Gitter end to end (config → buildAdapters → real matrix-js-sdk → fake gitter.im homeserver)", () => {
  let hs: FakeHomeserver | undefined;
  let app: App | undefined;
  let adapters: Adapter[] = [];

  afterEach(async () => {
    for (const a of adapters) await a.stop();
    adapters = [];
    await hs?.close();
    await app?.close();
  });

  it("maps gitter.im/org/room to #org_room:gitter.im, resolves it through the directory, joins, and answers as platform gitter", async () => {
    hs = new FakeHomeserver("gitter.im");
    const url = await hs.listen();
    const BOT = "@binderbot-gitter:gitter.im";
    const ALICE = "@alice-gh:gitter.im";
    const token = hs.addUser(BOT);
    hs.addUser(ALICE);
    const room = hs.createRoom({ creator: ALICE, alias: "#jupyterhub_mybinder.org-deploy:gitter.im" });
    const decoy = hs.createRoom({ creator: ALICE, alias: "#jupyterhub_binder:gitter.im" });

    const yaml = `${MINIMAL_YAML}adapters:
  gitter:
    homeserver: ${url}
    accessToken: "\${GITTER_MATRIX_TOKEN}"
    rooms: ["gitter.im/jupyterhub/mybinder.org-deploy"]
`;
    app = await testApp(yaml, { env: { GITTER_MATRIX_TOKEN: token } });
    adapters = await buildAdapters(app);
    expect(adapters.map((a) => a.platform)).toEqual(["gitter"]);
    const gitter = adapters[0] as Adapter;
    await gitter.start(app.bot.handle.bind(app.bot));

    const lookups = hs.requests.filter((r) => r.path.includes("/directory/room/"));
    expect(lookups.map((r) => decodeURIComponent(r.path.split("/directory/room/")[1] ?? ""))).toEqual([
      "#jupyterhub_mybinder.org-deploy:gitter.im",
    ]);
    expect(hs.membership(room, BOT)).toBe("join");
    expect(hs.membership(decoy, BOT)).toBeUndefined();
    expect(gitter.status().connected).toBe(true);

    const asked = hs.say(room, ALICE, "!binder whoami");
    const reply = await hs.nextSent((e) => e.room_id === room);
    expect(reply.sender).toBe(BOT);
    expect(reply.content.msgtype).toBe("m.notice");
    expect(reply.content.formatted_body).toContain(escapeHtml(`gitter:${ALICE}`));
    expect(reply.content["m.relates_to"]).toEqual({ "m.in_reply_to": { event_id: asked } });

    // Notifications may name the room the Gitter way too.
    await gitter.send("gitter.im/jupyterhub/mybinder.org-deploy", {
      ok: true,
      blocks: [{ type: "paragraph", content: ["deployed"] }],
    });
    const notes = hs.events(room, BOT).filter((e) => e.type === "m.room.message");
    expect(notes.at(-1)?.content.body).toBe("deployed");
    expect(notes.at(-1)?.content["m.relates_to"]).toBeUndefined();
  });
});
