import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { diagnose, diagnoseStream, loadSignatures, parseSignatures, SignaturesError } from "../src/diagnose/index.ts";
import { LineSplitter, normalizeLine } from "../src/diagnose/normalize.ts";
import { skipWhy } from "./helpers/skip.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sharedLogs = resolve(repoRoot, "../shared/data/ci-logs");
const ownLogs = resolve(repoRoot, "test/fixtures/logs");
const sigs = loadSignatures();

interface Row {
  file: string;
  verdict: string;
  id: string;
  line: string;
}
function expected(dir: string): Row[] {
  return readFileSync(join(dir, "EXPECTED.tsv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((r) => {
      const [file, verdict, id, line] = r.split("\t");
      return { file: file!, verdict: verdict!, id: id!, line: line! };
    });
}

function check(dir: string, row: Row): void {
  const text = readFileSync(join(dir, row.file), "utf8");
  const v = diagnose(text, sigs);
  expect({ verdict: v.verdict, id: v.signature?.id ?? "-" }).toEqual({ verdict: row.verdict, id: row.id });
  if (row.line === "-") expect(v.line).toBeNull();
  else {
    // "a|b|c": any line of a retry chain may be the decisive one
    expect(row.line.split("|").map(Number)).toContain(v.line);
    // the decisive text is that line of the file, normalised (no timestamp, no ANSI)
    const raw = text.split("\n")[v.line! - 1]!;
    expect(v.text).toBe(normalizeLine(raw).text);
    expect(v.text).not.toMatch(/^\d{4}-\d\d-\d\dT|\x1b/);
  }
}

describe.skipIf(!existsSync(sharedLogs))(
  `shared corpus (../shared/data/ci-logs)${skipWhy(existsSync(sharedLogs), `no ${sharedLogs}`)}`,
  () => {
    for (const row of existsSync(sharedLogs) ? expected(sharedLogs) : []) {
      it(`${row.file}: ${row.verdict} ${row.id} at line ${row.line}`, () => check(sharedLogs, row));
    }
  },
);
if (!existsSync(sharedLogs)) it.skip("shared corpus: skipped, ../shared/data/ci-logs is absent", () => {});

describe("own fixtures per family, GitHub Actions and Travis form (test/fixtures/logs)", () => {
  const rows = expected(ownLogs);
  it("covers both forms", () => {
    expect(rows.some((r) => r.file.startsWith("gha-"))).toBe(true);
    expect(rows.some((r) => r.file.startsWith("travis-"))).toBe(true);
  });
  for (const row of rows) it(`${row.file}: ${row.verdict} ${row.id} at line ${row.line}`, () => check(ownLogs, row));
});

describe("never call a failed deploy a success (issue #8)", () => {
  const corpora = [ownLogs, ...(existsSync(sharedLogs) ? [sharedLogs] : [])];
  const all = corpora.flatMap((dir) => expected(dir).map((row) => ({ dir, row })));

  it("no failed log of the corpus is called success, whole or cut to its last 64 KiB or 2 KiB", () => {
    const called: string[] = [];
    for (const { dir, row } of all) {
      if (row.verdict === "success") continue;
      const text = readFileSync(join(dir, row.file), "utf8");
      for (const t of [text, text.slice(-65536), text.slice(-2048)])
        if (diagnose(t, sigs).verdict === "success") called.push(row.file);
    }
    expect(called).toEqual([]);
    expect(all.filter((x) => x.row.verdict !== "success").length).toBeGreaterThan(80);
  });

  it("when the CI reports the job failed, no log is a success, not even one that reads like one", () => {
    for (const { dir, row } of all) {
      const v = diagnose(readFileSync(join(dir, row.file), "utf8"), sigs, { failed: true });
      expect(v.verdict, row.file).not.toBe("success");
      if (row.verdict !== "success")
        expect({ verdict: v.verdict, id: v.signature?.id ?? "-" }).toEqual({ verdict: row.verdict, id: row.id });
    }
  });

  it("a step's own success line is no evidence: rolled out, Happy Helming, N passed, then nothing", () => {
    for (const last of [
      'deployment "tiller-deploy" successfully rolled out',
      'Release "staging" has been upgraded. Happy Helming!',
      "==================== 10 passed in 61.40s ====================",
    ]) {
      expect(diagnose(`$ python ./deploy.py staging\n${last}\n`, sigs).verdict).toBe("unknown");
      // Travis without its last line: cut off, not passed
      expect(diagnose(`travis_fold:start:x\n$ python ./deploy.py staging\n${last}\n`, sigs).verdict).toBe("unknown");
    }
  });

  it("Travis: a failure that did not fail the build (after_script) is a success; with the CI's word it is not", () => {
    const log = [
      "travis_fold:start:after_script",
      "$ ./notify.sh",
      "curl: (6) Could not resolve host: hooks.example.org",
      'The command "./notify.sh" exited with 6.',
      "",
      "Done. Your build exited with 0.",
    ].join("\n");
    expect(diagnose(log, sigs)).toMatchObject({ verdict: "success", line: 6 });
    expect(diagnose(log, sigs, { failed: true })).toMatchObject({ verdict: "spurious", signature: { id: "C01" } });
  });

  it("GitHub Actions: a last step that printed an error without ##[error] is the failing step", () => {
    const v = diagnose(readFileSync(join(ownLogs, "gha-docker-action-unknown.log"), "utf8"), sigs);
    expect(v).toMatchObject({ verdict: "unknown", step: "jupyterhub/action-k8s-await-workloads@v3", marker: null });
    expect(v.context).toEqual([
      "ERROR: Workload staging/binder has pods with container restarts: binder-6b8f9c7d5-2xk4p restarted 4 times",
    ]);
    const crypt = diagnose(readFileSync(join(ownLogs, "gha-docker-action-git-crypt.log"), "utf8"), sigs);
    expect(crypt).toMatchObject({ verdict: "legitimate", signature: { id: "D04" } });
    expect(crypt.step).toMatch(/^sliteteam\/github-action-git-crypt-unlock@/);
    expect(crypt.advice).toMatch(/GIT_CRYPT_KEY/);
  });

  it("Travis multi-line script echo: the marker is the echo's last line, the step its command", () => {
    const v = diagnose(readFileSync(join(ownLogs, "travis-multiline-echo-unknown.log"), "utf8"), sigs);
    expect(v.verdict).toBe("unknown");
    expect(v.marker?.text).toBe('python ./deploy.py staging staging" failed and exited with 1 during .');
    expect(v.step).toBe("python ./deploy.py staging staging");
    expect(v.context.some((l) => l.includes("provided port is already allocated"))).toBe(true);
  });
});

describe("the slow path after the marker", () => {
  it("the combined pre-filter over the deferral targets gives the line-by-line path's verdict on every log", () => {
    const corpora = [ownLogs, ...(existsSync(sharedLogs) ? [sharedLogs] : [])];
    for (const dir of corpora)
      for (const row of expected(dir)) {
        const text = readFileSync(join(dir, row.file), "utf8");
        expect(diagnose(text, sigs), row.file).toEqual(diagnose(text, sigs, { prefilter: false }));
      }
  });

  it("finds a target long after the marker, and the first of several", () => {
    const log = [
      "##[group]Run python ./deploy.py staging",
      'error: deployment "hub" exceeded its progress deadline',
      "##[error]Process completed with exit code 1.",
      ...Array.from({ length: 3000 }, (_, i) => `pod/hub-${i} Running`),
      'Failed to pull image "quay.io/jupyterhub/k8s-hub:4.2.0": toomanyrequests: You have reached your pull rate limit',
      'Failed to pull image "quay.io/jupyterhub/k8s-hub:4.2.0": manifest unknown',
    ].join("\n");
    expect(diagnose(log, sigs)).toMatchObject({ verdict: "spurious", signature: { id: "K02" }, line: 3004 });
  });
});

describe("verdict details", () => {
  it("captures chart and version of a missing chart version (helm 3.16 wording)", () => {
    const v = diagnose(readFileSync(join(ownLogs, "gha-chart-missing-helm316.log"), "utf8"), sigs);
    expect(v.signature).toMatchObject({ id: "H02", family: "chart-version-missing", category: "legitimate" });
    expect(v.captures).toMatchObject({
      chart: "binderhub",
      version: "1.0.0-0.dev.git.3506.hba24eb4a",
      repository: "https://jupyterhub.github.io/helm-chart",
    });
    expect(v.step).toBe("python ./deploy.py staging");
  });

  it("captures chart and version from 'helm upgrade --version' and the cached-index wordings", () => {
    for (const [file, id] of [
      ["gha-chart-version-not-found-upgrade.log", "H04"],
      ["gha-chart-not-in-cached-index.log", "H05"],
    ] as const) {
      const v = diagnose(readFileSync(join(ownLogs, file), "utf8"), sigs);
      expect(v.signature?.id).toBe(id);
      expect(v.captures).toMatchObject({ chart: "binderhub", version: "1.0.0-0.dev.git.3506.hba24eb4a" });
    }
  });

  it("2018 incident: helm v2 names only the chart; the step is the dpl fold", () => {
    const file = join(sharedLogs, "travis-01-2018-01-04-wrong-chart-version.log");
    const text = existsSync(file)
      ? readFileSync(file, "utf8")
      : readFileSync(join(ownLogs, "travis-chart-missing-helm2.log"), "utf8");
    const v = diagnose(text, sigs);
    expect(v.captures.chart).toBe("binderhub");
    expect(v.signature?.family).toBe("chart-version-missing");
    expect(v.advice).toMatch(/do not just re-run/i);
  });

  it("a failed chart-index update earlier in the step lowers the confidence of a missing version", () => {
    const doubtful = diagnose(readFileSync(join(ownLogs, "travis-chart-missing-after-index-blip.log"), "utf8"), sigs);
    const plain = diagnose(readFileSync(join(ownLogs, "travis-chart-missing-helm2.log"), "utf8"), sigs);
    expect(doubtful.signature?.id).toBe("H01");
    expect(doubtful.confidence).toBeLessThan(plain.confidence);
    expect(doubtful.advice).toMatch(/Less certain/);
  });

  it("progress deadline defers to the image-pull reason printed after the marker", () => {
    const v = diagnose(readFileSync(join(ownLogs, "gha-rollout-deadline-rate-limited.log"), "utf8"), sigs);
    expect(v.verdict).toBe("spurious");
    expect(v.signature?.id).toBe("K02");
    expect(v.captures).toMatchObject({ workload: "hub", image: "quay.io/jupyterhub/k8s-hub:4.2.0" });
    expect(v.marker?.text).toBe("##[error]Process completed with exit code 1.");
  });

  it("pip 'from versions: none' after read-timeout retries is a network blip; without them a bad pin", () => {
    const blip = diagnose(readFileSync(join(ownLogs, "gha-pip-network-blip.log"), "utf8"), sigs);
    expect(blip).toMatchObject({ verdict: "spurious", signature: { id: "PI01" }, captures: { error: "ReadTimeoutError" } });
    const pin = diagnose(readFileSync(join(ownLogs, "gha-pip-bad-pin.log"), "utf8"), sigs);
    expect(pin).toMatchObject({
      verdict: "legitimate",
      signature: { id: "PI04" },
      captures: { requirement: "chartpress==9.9.9" },
    });
  });

  it("unknown: no signature, the last lines before the marker as context", () => {
    const v = diagnose(readFileSync(join(ownLogs, "gha-unknown-new-error.log"), "utf8"), sigs);
    expect(v.verdict).toBe("unknown");
    expect(v.signature).toBeNull();
    expect(v.confidence).toBe(0);
    expect(v.context.length).toBeGreaterThan(3);
    expect(v.context.some((l) => l.includes("field is immutable"))).toBe(true);
    expect(v.context.at(-1)).toMatch(/CalledProcessError/);
    expect(v.marker?.text).toBe("##[error]Process completed with exit code 1.");
  });

  it("an empty log is unknown, with no line", () => {
    for (const text of ["", "\n", "\n\n  \n"]) {
      const v = diagnose(text, sigs);
      expect(v).toMatchObject({ verdict: "unknown", signature: null, line: null, text: null });
      expect(v.advice).toMatch(/empty/);
    }
  });

  it("binary junk is unknown and does not throw", async () => {
    let seed = 42;
    const bytes = Buffer.alloc(1 << 20);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = seed >> 16;
    }
    const v = await diagnoseStream(Readable.from([bytes.subarray(0, 500_000), bytes.subarray(500_000)]), sigs);
    expect(["unknown", "spurious", "legitimate", "success"]).toContain(v.verdict);
    expect(v.verdict).toBe("unknown");
    expect(diagnose(bytes.toString("latin1"), sigs).verdict).toBe("unknown");
  });

  it("streamed chunks split anywhere give the same verdict as the whole text", async () => {
    const text = readFileSync(join(ownLogs, "travis-helm-wait-deadline.log"), "utf8");
    const whole = diagnose(text, sigs);
    const buf = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 7) chunks.push(buf.subarray(i, i + 7)); // splits UTF-8 sequences (⎈)
    expect(await diagnoseStream(Readable.from(chunks), sigs)).toEqual(whole);
    expect(whole).toMatchObject({ verdict: "spurious", signature: { id: "H14" }, step: "dpl.2" });
  });

  it("a 50 MB log is streamed with bounded memory and still finds the cause at its end", async () => {
    const dir = await mkdtemp(join(tmpdir(), "diagnose-50mb-"));
    try {
      const file = join(dir, "huge.log");
      const out = createWriteStream(file);
      const filler = `2026-03-20T09:00:00.0000000Z Waiting for deployment "hub" rollout to finish: 0 of 1 updated replicas are available... ${"x".repeat(60)}\n`;
      const block = filler.repeat(1000);
      out.write("2026-03-20T09:00:00.0000000Z ##[group]Run python ./deploy.py staging\n");
      let lines = 1;
      while (lines * filler.length < 50 * 1024 * 1024) {
        if (!out.write(block)) await new Promise<void>((r) => out.once("drain", () => r()));
        lines += 1000;
      }
      out.write("2026-03-20T09:10:00.0000000Z error: timed out waiting for the condition\n");
      out.write("2026-03-20T09:10:00.0000000Z ##[error]Process completed with exit code 1.\n");
      await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
      expect((await stat(file)).size).toBeGreaterThanOrEqual(50 * 1024 * 1024);
      const v = await diagnoseStream(createReadStream(file), sigs);
      expect(v).toMatchObject({
        verdict: "spurious",
        signature: { id: "K06" },
        line: lines + 1,
        step: "python ./deploy.py staging",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("normalisation", () => {
  it("strips GHA timestamps, the BOM, ANSI codes and keeps the last \\r segment", () => {
    expect(normalizeLine("\ufeff2026-03-11T09:03:28.0482252Z \x1b[31;1mError: boom\x1b[0m").text).toBe("Error: boom");
    expect(normalizeLine('travis_time:end:abc:start=1\r\x1b[0K\x1b[32;1mThe command "x" exited with 0.\x1b[0m').text).toBe(
      'The command "x" exited with 0.',
    );
    expect(normalizeLine("  0 1.2M\r 50 1.2M\r100 14.6M\r").text).toBe("100 14.6M");
    expect(normalizeLine("windows line\r").text).toBe("windows line");
    expect(normalizeLine("x".repeat(100_000)).text.length).toBeLessThanOrEqual(8192);
  });

  it("counts lines on \\n only, so numbers match the original file", () => {
    const seen: string[] = [];
    const s = new LineSplitter((l) => seen.push(l), 10);
    s.push("a\r\nb");
    s.push("c\n");
    s.push("0123456789ABCDEFGHIJ-too-long");
    s.push("-still\nend");
    s.end();
    expect(seen).toEqual(["a\r", "bc", "0123456789", "end"]);
  });

  it("a Travis log with CRLF line ends is read the same", () => {
    const text = readFileSync(join(ownLogs, "travis-helm-another-operation.log"), "utf8");
    const lf = diagnose(text, sigs);
    const crlf = diagnose(text.replaceAll("\n", "\r\n"), sigs);
    expect(crlf).toEqual(lf);
  });
});

describe("signatures file", () => {
  it("loads the shipped config/signatures.yaml, with every reference id present", () => {
    const ids = new Set(sigs.signatures.map((s) => s.id));
    for (const id of [
      "H01",
      "H02",
      "H13",
      "H14",
      "H15",
      "K01",
      "K02",
      "K05",
      "K06",
      "P01",
      "P02",
      "G01",
      "G05",
      "PI01",
      "PI04",
      "T05",
    ])
      expect(ids).toContain(id);
    expect(sigs.markers.length).toBeGreaterThan(0);
  });

  const base = `
markers: [{ id: m, pattern: '^##\\[error\\]' }]
signatures:
`;
  it("names the file and the key path, with the entry's id, on a bad regex", () => {
    const bad = `${base}  - { id: X1, category: spurious, title: t, advice: a, patterns: ['ok'] }
  - { id: X2, category: spurious, title: t, advice: a, patterns: ['ok', '(unclosed'] }
`;
    expect(() => parseSignatures(bad, "my.yaml")).toThrowError(
      /my\.yaml[\s\S]*signatures\[1\] \(id X2\)\.patterns\[1\]: invalid regular expression \/\(unclosed\//,
    );
  });

  const problems = (text: string): string[] => {
    try {
      parseSignatures(text, "bad.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(SignaturesError);
      return (err as SignaturesError).problems;
    }
    return expect.unreachable() as never;
  };

  it("validated with zod like the config: every shape problem at once, by key path", () => {
    expect(
      problems(`${base}  - { id: X1, category: flaky, title: t, advice: a, pattern: 'x' }
  - { id: X2, category: noise, title: t, advice: a, pattern: 'x', colour: red, confidence: 2 }
  - { id: X3, category: noise, title: '', advice: a, followed_within: 0 }
  - { id: 'not an id', category: noise, title: t, advice: a, pattern: 'x', patterns: ['y'] }
`),
    ).toEqual([
      'signatures[0] (id X1).category: expected one of "spurious", "legitimate", "noise"',
      "signatures[1] (id X2).confidence: Too big: expected number to be <=1",
      "signatures[1] (id X2): unknown key 'colour'",
      "signatures[2] (id X3).title: title is required",
      "signatures[2] (id X3).followed_within: Too small: expected number to be >0",
      "signatures[2] (id X3).patterns: give either pattern or patterns (a non-empty list)",
      "signatures[3] (id not an id).id: id must be a word such as H13",
      "signatures[3] (id not an id).patterns: give either pattern or patterns (a non-empty list)",
    ]);
    expect(problems("markers: []\nsignatures: []\ncolour: red\n")).toEqual([
      "markers: at least one failure marker is needed",
      "signatures: expected a non-empty list",
      "(top level): unknown key 'colour'",
    ]);
    expect(problems("markers: [{ id: m, pattern: 'x', system: circleci }]\nsignatures: [{ id: A }]\n")).toEqual([
      'markers[0].system: expected one of "gha", "travis"',
      'signatures[0] (id A).category: expected one of "spurious", "legitimate", "noise"',
      "signatures[0] (id A).title: expected string (missing)",
      "signatures[0] (id A).advice: expected string (missing)",
    ]);
  });

  it("then the entries together: regexes, duplicate ids, dangling defers_to", () => {
    expect(
      problems(`${base}  - { id: X1, category: noise, title: t, advice: a, pattern: 'x' }
  - { id: X1, category: noise, title: t, advice: a, pattern: 'x' }
  - { id: X3, category: noise, title: t, advice: a, pattern: '[', defers_to: [NOPE], noise_when_followed_by: ['('] }
`),
    ).toEqual([
      "signatures[1] (id X1).id: duplicate id X1",
      "signatures[2] (id X3).pattern: invalid regular expression /[/: Invalid regular expression: /[/: Unterminated character class",
      "signatures[2] (id X3).noise_when_followed_by[0]: invalid regular expression /(/: Invalid regular expression: /(/: Unterminated group",
      "signatures[2] (id X3).defers_to[0]: names unknown id NOPE",
    ]);
  });

  it("a missing file and invalid YAML are clear errors", () => {
    expect(() => loadSignatures("/nonexistent/signatures.yaml")).toThrowError(
      /\/nonexistent\/signatures\.yaml[\s\S]*cannot read: ENOENT/,
    );
    expect(() => parseSignatures("signatures: [", "x.yaml")).toThrowError(/x\.yaml[\s\S]*not valid YAML/);
  });

  it("a custom file drives the engine: order, noise, and noise when followed by a retry message", () => {
    const custom = parseSignatures(`${base}  - { id: N, category: noise, title: t, advice: a, pattern: 'harmless' }
  - id: R
    category: spurious
    title: t
    advice: retry
    pattern: 'flaky thing'
    noise_when_followed_by: ['^retrying']
    followed_within: 2
  - { id: L, category: legitimate, title: t, advice: fix, pattern: 'real bug (?<what>\\w+)' }
`);
    const run = (lines: string[]) => diagnose(lines.join("\n"), custom);
    expect(run(["real bug foo", "harmless", "##[error]x"])).toMatchObject({
      verdict: "legitimate",
      line: 1,
      captures: { what: "foo" },
    });
    expect(run(["real bug foo", "flaky thing", "retrying", "##[error]x"])).toMatchObject({ signature: { id: "L" } });
    expect(run(["real bug foo", "flaky thing", "##[error]x"])).toMatchObject({ signature: { id: "R" }, line: 2 });
    expect(run(["flaky thing", "a", "b", "retrying", "##[error]x"])).toMatchObject({ signature: { id: "R" } });
  });
});

describe("robustness: the same verdict when the log is framed differently", () => {
  const perturbations: Record<string, (t: string) => string> = {
    "CRLF line ends": (t) => t.replaceAll("\n", "\r\n"),
    "no GHA timestamps": (t) => t.replace(/^\uFEFF?\d{4}-\d\d-\d\dT[\d:.]+Z /gm, ""),
    "whole error lines coloured": (t) => t.replace(/^(.*(Error|error|FAILED).*)$/gm, "\x1b[31;1m$1\x1b[0m"),
    "only the last 64 KiB (as fetched from the end)": (t) => t.slice(-65536),
  };
  const corpora = [ownLogs, ...(existsSync(sharedLogs) ? [sharedLogs] : [])];
  for (const [name, perturb] of Object.entries(perturbations)) {
    it(name, () => {
      const wrong: string[] = [];
      for (const dir of corpora)
        for (const row of expected(dir)) {
          const v = diagnose(perturb(readFileSync(join(dir, row.file), "utf8")), sigs);
          if (v.verdict !== row.verdict || (v.signature?.id ?? "-") !== row.id)
            wrong.push(`${row.file}: ${v.verdict} ${v.signature?.id}`);
        }
      expect(wrong).toEqual([]);
    });
  }
});
