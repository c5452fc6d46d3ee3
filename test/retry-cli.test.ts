import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "./fakes/github.ts";
import { chartBotYaml } from "./helpers/app.ts";
import { jsonLines, runCli } from "./helpers/cli.ts";
import { DEPLOY, failedRun, LEGITIMATE, SPURIOUS } from "./helpers/retry.ts";

/**
 * The contract of issue #10, checked from outside: `binderbot ask --config F --as shell:ID --json
 * '!binder retry'` against a GitHub Actions API at github.apiUrl that records every request.
 */
let gh: FakeGitHub;
let cfg: string;
beforeAll(async () => {
  gh = await startFakeGitHub();
  gh.setRepo(DEPLOY);
  const dir = mkdtempSync(join(tmpdir(), "bb-retry-"));
  cfg = join(dir, "bot.yaml");
  // pollSeconds small: only `--follow` waits for the new attempt
  writeFileSync(
    cfg,
    `${chartBotYaml({ githubUrl: gh.url })}access:\n  roles:\n    operators: ["shell:alice"]\nretry: { pollSeconds: 0.05 }\n`,
  );
});
afterAll(async () => {
  await gh.close();
});

/** Each case adds the newest failed cd.yml run. */
let run: { id: number };

const ask = (as: string, text = "!binder retry", more: string[] = []) =>
  runCli(["ask", "--config", cfg, "--as", as, "--json", ...more, text]);
const rerunPosts = () => gh.requests.filter((r) => r.method === "POST" && /\/rerun/.test(r.path));

describe("binderbot ask '!binder retry' (the contract)", () => {
  it("as shell:mallory: ok false, the text names operators, no POST", async () => {
    run = failedRun(gh, new Date(), SPURIOUS, 5);
    const before = rerunPosts().length;
    const r = await ask("shell:mallory");
    const [line] = jsonLines(r.stdout);
    expect(r.code).toBe(0);
    expect(line).toMatchObject({ command: "retry", ok: false });
    expect(line?.text).toContain("operators");
    expect(line?.text).toContain("shell:alice");
    expect(rerunPosts().length).toBe(before);
  });

  it("as shell:alice, the latest failed cd.yml run spurious: exactly one rerun-failed-jobs POST, ok true, the run's link", async () => {
    run = failedRun(gh, new Date(), SPURIOUS, 4);
    const before = rerunPosts().length;
    const r = await ask("shell:alice");
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ command: "retry", ok: true });
    expect(lines[0]?.text).toContain(`actions/runs/${run.id}`);
    const posts = rerunPosts().slice(before);
    expect(posts.map((p) => p.path)).toEqual([`/repos/${DEPLOY}/actions/runs/${run.id}/rerun-failed-jobs`]);
  });

  it("as shell:alice, the latest failed run legitimate: no POST, ok false, says legitimate and --force", async () => {
    run = failedRun(gh, new Date(), LEGITIMATE, 3);
    const before = rerunPosts().length;
    const r = await ask("shell:alice");
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({ command: "retry", ok: false });
    expect(line?.text).toContain("legitimate");
    expect(line?.text).toContain("--force");
    expect(rerunPosts().length).toBe(before);
  });

  it("with --follow, a later line says how the new attempt ended (green here)", async () => {
    run = failedRun(gh, new Date(), SPURIOUS, 2);
    // the fake marks the run queued on the re-run; the bot sees it running once, then green
    gh.endRerunAs(run.id, "success", 1);
    const r = await ask("shell:alice", "!binder retry", ["--follow"]);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ ok: true });
    expect(lines[0]?.text).toContain("I will say here how it ends");
    expect(lines[1]).toMatchObject({ said: "send", command: "retry" });
    expect(lines[1]?.text).toContain("passed: the deploy is green again");
  });
});
