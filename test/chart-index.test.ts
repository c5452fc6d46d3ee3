import { existsSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ChartIndex } from "../src/charts/index/chart-index.ts";
import { parseIndex } from "../src/charts/index/parse.ts";
import { parseChartVersion, shaMatches } from "../src/charts/index/version-format.ts";
import { formatAge } from "../src/commands/sha-text.ts";
import { openStore } from "../src/store/store.ts";
import { type FakeChartEntry, type IndexServer, indexYaml, startIndexServer } from "./fakes/index-server.ts";
import { silentLogger } from "./helpers/log.ts";
import { skipWhy } from "./helpers/skip.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REAL_INDEX = path.resolve(repoRoot, "../shared/data/helm-chart-index-2024-10-24.yaml");

const BINDERHUB: FakeChartEntry[] = [
  { version: "0.1.0-441f5ea", created: "2018-01-04T15:42:38.776605387Z" },
  { version: "0.2.0-017.5aa671c", created: "2019-11-20T10:00:00.000000000Z" },
  { version: "0.2.0-n432.h687657b", created: "2020-12-01T10:00:00.000000000Z" },
  { version: "0.2.0-0.dev.git.2752.h3450e52", created: "2022-09-20T10:00:00.000000000Z" },
  { version: "1.0.0-0.dev.git.3503.ha8a2e19", created: "2024-08-01T08:28:34.431472558Z" },
  { version: "1.0.0-0.dev.git.3506.hba24eb2a", created: "2024-08-08T18:05:34.413844784Z" },
  { version: "0.2.0", created: "2019-10-01T00:00:00Z" },
];

/** A mutable clock for maxAge and "how old" checks. */
function clock(start = "2024-10-24T12:00:00Z") {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

const servers: IndexServer[] = [];
async function server(body: string | (() => string)) {
  const s = await startIndexServer({ body });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("parseChartVersion: every format chartpress has published", () => {
  it.each([
    ["0.1.0-441f5ea", "441f5ea", null, "sha"],
    ["v0.4.0-9e1f8a2", "9e1f8a2", null, "sha"],
    ["0.2.0-017.5aa671c", "5aa671c", 17, "count.sha"],
    ["0.9.0-alpha.1.112.34b7b8e", "34b7b8e", 112, "count.sha"],
    ["0.2.0-n432.h687657b", "687657b", 432, "n.h"],
    ["1.0.0-beta.1.n001.h0123abc", "0123abc", 1, "n.h"],
    ["0.2.0-0.dev.git.2752.h3450e52", "3450e52", 2752, "git.n.h"],
    ["1.0.0-0.dev.git.3983.h383374de", "383374de", 3983, "git.n.h"],
    ["4.0.0-beta.4.git.6831.habe06f4d", "abe06f4d", 6831, "git.n.h"],
    ["1.0.0-0.dev.git.3983.H383374DE", "383374de", 3983, "git.n.h"],
    ["1.0.0", null, null, "tag"],
    ["0.2.0", null, null, "tag"],
    ["4.0.0-beta.4", null, null, "tag"],
    ["v0.6", null, null, "tag"],
    ["1.0.0-abcdef", null, null, "tag"], // 6 hex digits: too short to be chartpress's hash
    ["1.0.0-0.dev.git.12.hxyz1234", null, null, "tag"],
  ])("%s → sha %s, n %s", (version, sha, n, format) => {
    expect(parseChartVersion(version)).toEqual({ sha, n, format });
  });

  it("shaMatches: prefix either way, never below 7 characters", () => {
    expect(shaMatches("441f5ea", "441f5ea545d02ef9e3d0d66e5cd1aac8ddc6ac7c")).toBe(true);
    expect(shaMatches("ba24eb2a", "ba24eb2")).toBe(true);
    expect(shaMatches("ba24eb2a", "ba24eb2b")).toBe(false);
    expect(shaMatches("441f5ea", "441f5e")).toBe(false);
  });
});

describe("ChartIndex lookups", () => {
  it("versions newest first, byVersion, bySha at 7 and 8 characters, newestHashLength, charts", async () => {
    const s = await server(
      indexYaml({ binderhub: BINDERHUB, jupyterhub: [{ version: "3.3.8", created: "2024-09-01T00:00:00Z" }] }),
    );
    const idx = new ChartIndex({ url: s.url, log: silentLogger() });
    const snap = await idx.get();
    expect(snap.charts().sort()).toEqual(["binderhub", "jupyterhub"]);
    expect(snap.versions("binderhub").map((e) => e.version)).toEqual([
      "1.0.0-0.dev.git.3506.hba24eb2a",
      "1.0.0-0.dev.git.3503.ha8a2e19",
      "0.2.0-0.dev.git.2752.h3450e52",
      "0.2.0-n432.h687657b",
      "0.2.0-017.5aa671c",
      "0.2.0",
      "0.1.0-441f5ea",
    ]);
    expect(snap.versions("nope")).toEqual([]);
    const e = snap.byVersion("binderhub", "0.2.0-n432.h687657b");
    expect(e).toMatchObject({ chart: "binderhub", sha: "687657b", n: 432, created: "2020-12-01T10:00:00.000000000Z" });
    expect(e?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(e?.urls).toEqual(["https://example.org/charts/binderhub-0.2.0-n432.h687657b.tgz"]);
    expect(snap.byVersion("binderhub", "0.2.0")?.sha).toBeNull();

    // a 7-character version hash, asked with the full sha, 8 chars, or exactly 7
    const full441 = "441f5ea545d02ef9e3d0d66e5cd1aac8ddc6ac7c";
    expect(snap.bySha("binderhub", full441).map((x) => x.version)).toEqual(["0.1.0-441f5ea"]);
    expect(snap.bySha("binderhub", "441f5ea5").map((x) => x.version)).toEqual(["0.1.0-441f5ea"]);
    expect(snap.bySha("binderhub", "441F5EA").map((x) => x.version)).toEqual(["0.1.0-441f5ea"]);
    expect(snap.bySha("binderhub", "441f5eb545d02ef9e3d0d66e5cd1aac8ddc6ac7c")).toEqual([]);
    // an 8-character version hash, asked with 7, 8 or 40 characters
    expect(snap.bySha("binderhub", "ba24eb2").map((x) => x.version)).toEqual(["1.0.0-0.dev.git.3506.hba24eb2a"]);
    expect(snap.bySha("binderhub", "ba24eb2a").map((x) => x.version)).toEqual(["1.0.0-0.dev.git.3506.hba24eb2a"]);
    expect(snap.bySha("binderhub", `ba24eb2a${"0".repeat(32)}`)).toHaveLength(1);
    expect(snap.bySha("binderhub", `ba24eb2b${"0".repeat(32)}`)).toEqual([]); // 8th char differs
    expect(snap.bySha("binderhub", "5aa671c")[0]).toMatchObject({ n: 17 });
    expect(snap.bySha("binderhub", "ba24eb")).toEqual([]); // too short to mean anything
    expect(snap.bySha("binderhub", "not-a-sha")).toEqual([]);
    expect(snap.bySha("jupyterhub", full441)).toEqual([]);

    expect(snap.newestHashLength("binderhub")).toBe(8);
    expect(snap.newestHashLength("jupyterhub")).toBeNull(); // only tags
    expect(snap.newestHashLength("nope")).toBeNull();
  });

  it("bySha returns every entry sharing a 7-character prefix when asked with 7, only the right one with more", async () => {
    const s = await server(
      indexYaml({
        c: [
          { version: "1.0.0-0.dev.git.10.habcdef01", created: "2024-08-02T00:00:00Z" },
          { version: "1.0.0-0.dev.git.9.habcdef02", created: "2024-08-01T00:00:00Z" },
        ],
      }),
    );
    const snap = await new ChartIndex({ url: s.url, log: silentLogger() }).get();
    expect(snap.bySha("c", "abcdef0").map((e) => e.version)).toEqual([
      "1.0.0-0.dev.git.10.habcdef01",
      "1.0.0-0.dev.git.9.habcdef02",
    ]);
    expect(snap.bySha("c", "abcdef02ffff").map((e) => e.version)).toEqual(["1.0.0-0.dev.git.9.habcdef02"]);
  });

  it("newestHashLength follows the newest entry, so a switch back to 7 is seen too", async () => {
    const s = await server(indexYaml({ c: [{ version: "1.0.0-0.dev.git.3503.ha8a2e19", created: "2024-08-01T00:00:00Z" }] }));
    const c = clock();
    const idx = new ChartIndex({ url: s.url, log: silentLogger(), now: c.now });
    expect((await idx.get()).newestHashLength("c")).toBe(7);
    s.setBody(
      indexYaml({
        c: [
          { version: "1.0.0-0.dev.git.3506.hba24eb2a", created: "2024-08-08T00:00:00Z" },
          { version: "1.0.0-0.dev.git.3503.ha8a2e19", created: "2024-08-01T00:00:00Z" },
        ],
      }),
    );
    c.advance(61_000);
    expect((await idx.get()).newestHashLength("c")).toBe(8);
  });
});

describe("ChartIndex fetching: ETag / 304, parse once per change", () => {
  it("an unchanged poll costs one 304 and no parse; a change costs one 200 and one parse", async () => {
    const s = await server(indexYaml({ binderhub: BINDERHUB }));
    const c = clock();
    const idx = new ChartIndex({ url: s.url, log: silentLogger(), now: c.now });
    await idx.get();
    expect([s.requests, s.served, idx.parseCount]).toEqual([1, 1, 1]);

    // within maxAge: no request at all
    c.advance(30_000);
    await idx.get();
    expect(s.requests).toBe(1);

    // older than maxAge: one conditional request, answered 304, no parse
    c.advance(31_000);
    const snap = await idx.get();
    expect([s.requests, s.notModified, idx.parseCount]).toEqual([2, 1, 1]);
    expect(s.lastHeaders?.["if-none-match"]).toMatch(/^".+"$/);
    expect(s.lastHeaders?.["if-modified-since"]).toBeTruthy();
    expect(snap.fetchedAt.getTime()).toBe(c.now().getTime()); // confirmed now
    expect(snap.stale).toBe(false);

    expect(await idx.refresh()).toEqual({ changed: false, status: 304 });
    expect(idx.parseCount).toBe(1);

    s.setBody(
      indexYaml({ binderhub: [...BINDERHUB, { version: "1.0.0-0.dev.git.3510.h0123abcd", created: "2024-10-01T00:00:00Z" }] }),
    );
    const after = await idx.get({ maxAgeMs: 0 });
    expect(idx.parseCount).toBe(2);
    expect(after.versions("binderhub")[0]?.version).toBe("1.0.0-0.dev.git.3510.h0123abcd");
    expect(snap.versions("binderhub")[0]?.version).toBe("1.0.0-0.dev.git.3506.hba24eb2a"); // old snapshots are immutable
  });

  it("a 200 with the same body (a CDN that ignores the ETag) is not parsed again", async () => {
    const s = await server(indexYaml({ binderhub: BINDERHUB }));
    const noConditional: typeof fetch = (u, init) => fetch(u, { ...init, headers: {} });
    const idx = new ChartIndex({ url: s.url, log: silentLogger(), fetch: noConditional });
    await idx.get();
    expect(await idx.refresh()).toEqual({ changed: false, status: 200 });
    expect([s.served, idx.parseCount]).toEqual([2, 1]);
  });

  it("concurrent gets share one request", async () => {
    const s = await server(indexYaml({ binderhub: BINDERHUB }));
    const idx = new ChartIndex({ url: s.url, log: silentLogger() });
    const snaps = await Promise.all([idx.get(), idx.get(), idx.get(), idx.get()]);
    expect(s.requests).toBe(1);
    expect(new Set(snaps.map((x) => x.versions("binderhub").length))).toEqual(new Set([7]));
  });
});

describe("ChartIndex failures: last good copy, marked stale, with its age", () => {
  it("HTTP error, dropped connection, unreadable body → stale copy; recovery clears it", async () => {
    const s = await server(indexYaml({ binderhub: BINDERHUB }));
    const c = clock();
    const idx = new ChartIndex({ url: s.url, log: silentLogger(), now: c.now });
    const t0 = (await idx.get()).fetchedAt;

    c.advance(10 * 60_000);
    s.failNext(503);
    let snap = await idx.get();
    expect(snap.stale).toBe(true);
    expect(snap.error).toBe("HTTP 503 Service Unavailable");
    expect(snap.fetchedAt).toEqual(t0);
    expect(formatAge(c.now().getTime() - snap.fetchedAt.getTime())).toBe("10 min");
    expect(snap.bySha("binderhub", "441f5ea")).toHaveLength(1);

    // a failed attempt also counts for maxAge: no hammering a broken source on every question
    c.advance(5_000);
    await idx.get();
    expect(s.requests).toBe(2);

    c.advance(60_000);
    s.failNext("close");
    snap = await idx.get();
    expect(snap.stale).toBe(true);
    expect(snap.error).toMatch(/socket|closed|terminated|ECONNRESET/i);

    s.setBody("<html>GitHub Pages is down</html>");
    snap = await idx.get({ maxAgeMs: 0 });
    expect(snap.stale).toBe(true);
    expect(snap.error).toMatch(/^unreadable index: /);
    expect(snap.versions("binderhub")).toHaveLength(7);

    s.setBody(indexYaml({ binderhub: BINDERHUB.slice(0, 2) }));
    snap = await idx.get({ maxAgeMs: 0 });
    expect([snap.stale, snap.error]).toEqual([false, null]);
    expect(snap.versions("binderhub")).toHaveLength(2);
  });

  it("never had a copy → one clear Error naming the source and the reason", async () => {
    const s = await server("x");
    const url = s.url;
    await s.close();
    servers.length = 0;
    const idx = new ChartIndex({ url, log: silentLogger() });
    await expect(idx.get()).rejects.toThrow(new RegExp(`^chart index ${url.replace(/[.]/g, "\\.")} unavailable: .*ECONNREFUSED`));
  });

  it("a restart with the index unreachable answers from the persisted copy, saying how old it is", async () => {
    const store = await openStore("memory", ".");
    const s = await server(indexYaml({ binderhub: BINDERHUB }));
    const c = clock();
    const first = new ChartIndex({ url: s.url, log: silentLogger(), store, now: c.now });
    await first.get();
    c.advance(5 * 60_000);
    await first.get(); // a 304 later: the confirmation time is persisted (small key), not the body again
    expect(s.notModified).toBe(1);
    await first.flush();
    const confirmed = c.now().getTime();

    // restart, source still up: the persisted ETag makes the first request a 304
    c.advance(60 * 60_000);
    const second = new ChartIndex({ url: s.url, log: silentLogger(), store, now: c.now });
    const [snap2] = await Promise.all([second.get(), second.get()]); // concurrent: one store load, one request
    expect(s.requests).toBe(3);
    expect(s.notModified).toBe(2);
    expect(second.parseCount).toBe(1); // the persisted body, parsed once
    expect(snap2.stale).toBe(false);
    await second.flush();

    // restart with the source gone
    const url = s.url;
    await s.close();
    servers.length = 0;
    c.advance(2 * 3600_000);
    const third = new ChartIndex({ url, log: silentLogger(), store, now: c.now });
    const snap3 = await third.get();
    expect(snap3.stale).toBe(true);
    expect(snap3.error).toMatch(/ECONNREFUSED|closed/);
    expect(snap3.fetchedAt.getTime()).toBe(confirmed + 60 * 60_000);
    expect(formatAge(c.now().getTime() - snap3.fetchedAt.getTime())).toBe("2 h");
    expect(snap3.bySha("binderhub", "687657bb2f")[0]?.version).toBe("0.2.0-n432.h687657b");
    await store.close();
  });
});

describe("ChartIndex from a local file", () => {
  it("plain path and file: URL; unchanged file is not re-read; a changed one is", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chart-index-"));
    const file = path.join(dir, "index.yaml");
    writeFileSync(file, indexYaml({ binderhub: BINDERHUB }));
    const idx = new ChartIndex({ url: file, log: silentLogger() });
    expect((await idx.get()).versions("binderhub")).toHaveLength(7);
    expect(await idx.refresh()).toEqual({ changed: false, status: 304 });
    writeFileSync(file, indexYaml({ binderhub: BINDERHUB.slice(0, 3) }));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await idx.refresh()).toEqual({ changed: true, status: 200 });
    expect(idx.parseCount).toBe(2);

    const viaUrl = new ChartIndex({ url: pathToFileURL(file).href, log: silentLogger() });
    expect((await viaUrl.get()).versions("binderhub")).toHaveLength(3);

    const missing = new ChartIndex({ url: path.join(dir, "nope.yaml"), log: silentLogger() });
    await expect(missing.get()).rejects.toThrow(/unavailable: no such file .*nope\.yaml/);
  });
});

describe("index parsing", () => {
  it.each([
    ["helm layout", indexYaml({ binderhub: BINDERHUB, other: [{ version: "1.2.3" }] })],
    [
      "yaml.v3 layout: 4-space indent, single quotes, comments, block scalars, CRLF",
      [
        "# comment",
        "apiVersion: v1",
        "entries:",
        "    binderhub:",
        "        - version: '0.1.0-441f5ea'",
        "          created: 2018-01-04T15:42:38Z",
        "          urls:",
        "            - https://x/a.tgz # the package",
        "            - 'https://x/b.tgz'",
        "          description: |-",
        "            version: nope",
        "            - nope",
        '          digest: "abc"',
        "    empty: []",
        "generated: x",
      ].join("\r\n"),
    ],
    ["flow style", 'apiVersion: v1\nentries: {"binderhub": [{"version": "0.1.0-441f5ea", "urls": ["u"]}]}\n'],
    ["anchors", "entries:\n  binderhub:\n  - &a\n    version: 0.1.0-441f5ea\n  - version: &v 2.0.0\n"],
  ])("%s", (_name, body) => {
    const index = parseIndex(body);
    const versions = (index.get("binderhub") ?? []).map((e) => e.version);
    expect(versions).toContain("0.1.0-441f5ea");
    expect(versions).not.toContain("nope");
  });

  it("keeps versions and timestamps as written (no number or date coercion)", () => {
    const index = parseIndex("entries:\n  c:\n  - version: 0.10\n    created: 2018-01-04T15:42:38.776605387Z\n");
    expect(index.get("c")?.[0]).toMatchObject({ version: "0.10", created: "2018-01-04T15:42:38.776605387Z" });
  });

  it("rejects a body that is not an index", () => {
    expect(() => parseIndex("<html>")).toThrow(/not a Helm repository index/);
    expect(() => parseIndex("a: [")).toThrow(/not valid YAML/);
  });
});

describe("the real index (jupyterhub/helm-chart, 2024-10-24)", () => {
  const present = existsSync(REAL_INDEX);
  it.skipIf(!present)(
    `697 binderhub entries, every one with its hash; lookups as published${skipWhy(present, `no ${REAL_INDEX}`)}`,
    async () => {
      const idx = new ChartIndex({ url: REAL_INDEX, log: silentLogger() });
      const snap = await idx.get();
      const bh = snap.versions("binderhub");
      expect(bh).toHaveLength(697);
      expect(snap.versions("jupyterhub")).toHaveLength(1058);
      expect(bh.every((e) => e.sha !== null)).toBe(true);
      expect(bh[0]?.version).toBe("1.0.0-0.dev.git.3506.hba24eb2a");
      expect(snap.newestHashLength("binderhub")).toBe(8);

      const incident = snap.bySha("binderhub", "441f5ea545d02ef9e3d0d66e5cd1aac8ddc6ac7c");
      expect(incident.map((e) => [e.version, e.created])).toEqual([["0.1.0-441f5ea", "2018-01-04T15:42:38.776605387Z"]]);
      expect(snap.bySha("binderhub", "4e3bafb")).toEqual([]); // the merge commit of PR #395 was never a chart
      expect(snap.bySha("binderhub", "687657bb")[0]?.version).toBe("0.2.0-n432.h687657b");
      expect(snap.bySha("binderhub", "3450e52")[0]?.version).toBe("0.2.0-0.dev.git.2752.h3450e52");
      expect(snap.bySha("binderhub", "ba24eb2")[0]?.version).toBe("1.0.0-0.dev.git.3506.hba24eb2a");
      expect(snap.bySha("binderhub", "a8a2e19")[0]?.n).toBe(3503);

      // every binderhub version is found by its own hash
      for (const e of bh) expect(snap.bySha("binderhub", e.sha!)).toContain(e);

      // polling the unchanged file costs no parse
      await idx.get({ maxAgeMs: 0 });
      expect(idx.parseCount).toBe(1);
    },
  );
  if (!present) it.skip(`skipped: ${REAL_INDEX} is absent`, () => {});
});
