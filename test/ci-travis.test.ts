import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CiError } from "../src/ci/provider.ts";
import { TravisProvider } from "../src/ci/travis.ts";
import { FakeTravis } from "./fakes/travis.ts";

const SLUG = "jupyterhub/mybinder.org-deploy";
const SHA = "cd4a14c9be88e9edefa0890abe0841ace5e41ef1";

function numberedLog(lines: number, tail: string): string {
  const out: string[] = [];
  for (let i = 1; i <= lines; i++) out.push(`line ${i} ${"x".repeat(40)}`);
  out.push(tail);
  return `${out.join("\n")}\n`;
}

describe("Travis CI API v3 provider against a fake on 127.0.0.1", () => {
  let fake: FakeTravis;
  let ci: TravisProvider;

  beforeEach(async () => {
    fake = await new FakeTravis({ slug: SLUG, token: "travis-secret-token" }).start();
    fake.builds.push(
      {
        id: 325095000,
        number: "500",
        state: "passed",
        branch: "staging",
        sha: "a".repeat(40),
        startedAt: "2018-01-04T15:00:00Z",
        jobs: [{ id: 325095001, state: "passed", log: "ok\n" }],
      },
      {
        id: 325095814,
        number: "501",
        state: "errored",
        branch: "staging",
        sha: SHA,
        startedAt: "2018-01-04T16:03:00Z",
        jobs: [
          {
            id: 325095815,
            state: "errored",
            name: "deploy staging",
            log: 'boom\nThe command "python deploy.py" exited with 1.\n',
          },
          { id: 325095816, state: "passed", log: "fine\n" },
        ],
      },
      {
        id: 325095900,
        number: "502",
        state: "failed",
        branch: "pr-branch",
        sha: "b".repeat(40),
        eventType: "pull_request",
        pr: 254,
        startedAt: "2018-01-04T16:01:00Z",
        jobs: [{ id: 325095901, state: "failed", log: null }],
      },
    );
    ci = new TravisProvider({ apiUrl: fake.url, repo: SLUG, token: "travis-secret-token" });
  });
  afterEach(async () => fake.close());

  it("sends Travis-API-Version: 3 and finds the latest failed build on the branch", async () => {
    const run = await ci.latestFailedRun("ignored", "staging");
    expect(run?.id).toBe("325095814");
    expect(run?.sha).toBe(SHA);
    expect(run?.conclusion).toBe("failure");
    expect(run?.url).toBe(`${fake.url}/${SLUG}/builds/325095814`);
    expect(fake.requests.every((r) => r.headers["travis-api-version"] === "3")).toBe(true);
    expect(fake.requests[0]?.path).toContain("branch.name=staging");
  });

  it("returns null when nothing failed on the branch", async () => {
    fake.builds.splice(1, 1);
    expect(await ci.latestFailedRun("x", "staging")).toBeNull();
  });

  it("finds runs by commit prefix and by PR number", async () => {
    expect((await ci.runsForCommit(SHA.slice(0, 7))).map((r) => r.id)).toEqual(["325095814"]);
    expect((await ci.runsForCommit("f".repeat(40), { pr: 254 })).map((r) => r.id)).toEqual(["325095900"]);
    expect(await ci.runsForCommit("e".repeat(40))).toEqual([]);
  });

  it("reads a build by id, by build URL and by job URL; refuses another repository's URL", async () => {
    expect((await ci.run("325095814")).id).toBe("325095814");
    expect((await ci.run(`https://travis-ci.org/${SLUG}/builds/325095814`)).id).toBe("325095814");
    expect((await ci.run(`https://app.travis-ci.com/github/${SLUG}/jobs/325095815`)).id).toBe("325095814");
    await expect(ci.run("https://travis-ci.org/someone/else/builds/1")).rejects.toMatchObject({ kind: "bad-input" });
    await expect(ci.run("999")).rejects.toMatchObject({ kind: "not-found" });
  });

  it("lists only the failed jobs, and follows the log redirect without sending the token to storage", async () => {
    const run = await ci.run("325095814");
    const jobs = await ci.failedJobs(run);
    expect(jobs.map((j) => [j.id, j.name])).toEqual([["325095815", "deploy staging"]]);
    const log = await ci.jobLog(jobs[0] as never, { maxBytes: 1 << 20 });
    expect(log.text).toContain('The command "python deploy.py" exited with 1.');
    expect(log.truncated).toBe(false);
    expect(log.lineOffset).toBe(0);
    const api = fake.requests.find((r) => r.path === "/job/325095815/log.txt");
    const storage = fake.requests.find((r) => r.path.startsWith("/archive/325095815"));
    expect(api?.headers.authorization).toBe("token travis-secret-token");
    expect(storage).toBeDefined();
    expect(storage?.headers.authorization).toBeUndefined();
  });

  it("reads a log bigger than maxBytes from the end, with a range request", async () => {
    const big = numberedLog(50_000, 'The command "python deploy.py" exited with 1.');
    (fake.builds[1]?.jobs[0] as { log: string }).log = big;
    const job = (await ci.failedJobs(await ci.run("325095814")))[0];
    const log = await ci.jobLog(job as never, { maxBytes: 64 * 1024 });
    expect(Buffer.byteLength(big)).toBeGreaterThan(2_000_000);
    expect(log.truncated).toBe(true);
    expect(log.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(log.totalBytes).toBe(Buffer.byteLength(big));
    expect(log.text.endsWith('The command "python deploy.py" exited with 1.\n')).toBe(true);
    expect(log.text.startsWith("line ")).toBe(true); // cut at a line start
    expect(fake.logBytesSent).toBeLessThanOrEqual(64 * 1024);
    expect(log.lineOffset).toBeNull(); // the count of earlier lines is unknown with a range
  });

  it("streams a big log from a server that ignores Range, keeping the tail and exact line numbers", async () => {
    await fake.close();
    fake = await new FakeTravis({ slug: SLUG, range: false }).start();
    const big = numberedLog(50_000, "LAST");
    fake.builds.push({
      id: 1,
      number: "1",
      state: "failed",
      branch: "main",
      sha: SHA,
      startedAt: "2024-01-01T00:00:00Z",
      jobs: [{ id: 2, state: "failed", log: big }],
    });
    ci = new TravisProvider({ apiUrl: fake.url, repo: SLUG });
    const job = (await ci.failedJobs(await ci.run("1")))[0];
    const log = await ci.jobLog(job as never, { maxBytes: 10_000 });
    expect(log.truncated).toBe(true);
    expect(log.bytes).toBeLessThanOrEqual(10_000);
    const first = log.text.split("\n")[0] as string;
    const n = Number(/^line (\d+) /.exec(first)?.[1]);
    // the first kept line is line lineOffset+1 of the whole log
    expect(n).toBe((log.lineOffset as number) + 1);
    expect(log.text.trimEnd().endsWith("LAST")).toBe(true);
  });

  it("says a log is unavailable when it expired", async () => {
    const run = await ci.run("325095900");
    const job = (await ci.failedJobs(run))[0];
    await expect(ci.jobLog(job as never, { maxBytes: 1000 })).rejects.toMatchObject({ kind: "logs-unavailable" });
  });

  it("restarts only the failed jobs, with the token", async () => {
    await ci.rerunFailed(await ci.run("325095814"));
    expect(fake.restarts).toEqual(["job:325095815"]);
    const anon = new TravisProvider({ apiUrl: fake.url, repo: SLUG });
    await expect(anon.rerunFailed(await anon.run("325095814"))).rejects.toMatchObject({ kind: "denied" });
  });

  it("reports an outage and an unreachable API as one clear line, without the token", async () => {
    fake.failWith = 503;
    const e1 = await ci.latestFailedRun("x", "staging").catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(CiError);
    expect((e1 as CiError).kind).toBe("unreachable");
    expect((e1 as CiError).message).toMatch(/HTTP 503/);
    const url = fake.url;
    await fake.close();
    const dead = new TravisProvider({ apiUrl: url, repo: SLUG, token: "travis-secret-token" });
    const e2 = (await dead.latestFailedRun("x", "staging").catch((e: unknown) => e)) as CiError;
    expect(e2.kind).toBe("unreachable");
    expect(e2.message).toMatch(/^Travis CI is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\) while reading/);
    expect(e2.message).not.toContain("travis-secret-token");
    expect(e2.message).not.toContain("\n");
  });
});
