import { describe, expect, it } from "vitest";
import { bind } from "../src/core/args.ts";
import type { CommandSpec } from "../src/core/command.ts";
import { MAX_TEXT, Parser } from "../src/core/parse.ts";
import { Registry } from "../src/core/registry.ts";
import { ok } from "../src/core/reply.ts";
import { tokenize } from "../src/core/tokenize.ts";

const spec = (name: string, extra: Partial<CommandSpec<unknown>> = {}): CommandSpec<unknown> => ({
  name,
  summary: name,
  args: [],
  examples: [],
  access: "anyone",
  sideEffects: null,
  run: async () => ok([]),
  ...extra,
});

const registry = new Registry<unknown>([
  spec("help", { aliases: ["h"] }),
  spec("sha", {
    args: [
      { name: "chart", type: "string", description: "chart", leading: true },
      { name: "ref", type: "ref", description: "ref" },
    ],
    intents: [{ pattern: /\b(?:which|what)\s+(?:sha|version|chart)\b.*?(?<ref>#\d+|\b[0-9a-f]{7,40}\b)/i }],
  }),
  spec("why", { intents: [{ pattern: /\bwhy did (?:the )?deploy(?:ment)? fail\b/i }] }),
  spec("retry", { intents: [{ pattern: /^(?:please )?retry the deploy\b/i }] }),
]);
const parser = new Parser(registry, { prefix: "!binder", names: ["binderbot"] });
const parse = (text: string, addressed = false) => parser.parse({ text, addressed });

describe("parser", () => {
  const table: Array<[string, string, string[]?]> = [
    // input, expected kind[:command], tokens
    ["!binder help", "command:help", []],
    ["!BINDER help", "command:help", []],
    ["  !binder   help   sha ", "command:help", ["sha"]],
    ["!binder h", "command:help", []],
    ["!binder sha 4e3bafb", "command:sha", ["4e3bafb"]],
    ['!binder sha "binderhub" #395', "command:sha", ["binderhub", "#395"]],
    ["!binder sha --force 4e3bafb", "command:sha", ["--force", "4e3bafb"]],
    ["@binderbot help", "command:help", []],
    ["@binderbot: help", "command:help", []],
    ["binderbot: help", "command:help", []],
    ["binderbot, help", "command:help", []],
    ["BinderBot: help", "command:help", []],
    ["@binderbot which sha do I use for #395?", "command:sha", ["#395"]],
    ["binderbot: what version is 4e3bafb?", "command:sha", ["4e3bafb"]],
    ["binderbot: why did the deploy fail?", "command:why", []],
    ["@binderbot retry the deploy", "command:retry", []],
    ["!binder which version should I pin for 441f5ea545", "command:sha", ["441f5ea545"]],
    ["", "ignore"],
    ["hello there", "ignore"],
    ["binderbot is great", "ignore"],
    ["!binderbot help", "ignore"],
    ["!binder", "empty"],
    ["@binderbot", "empty"],
    ["!binder shaa 4e3bafb", "unknown"],
    ["!binder 日本語 🚀", "unknown"],
    ["!binder $(rm -rf /) ; `ls` | cat", "unknown"],
    ["!binder help 'unclosed", "error"],
  ];
  it.each(table)("%j → %s", (input, expected, tokens) => {
    const p = parse(input);
    const kind = p.kind === "command" ? `command:${p.spec.name}` : p.kind;
    expect(kind).toBe(expected);
    if (tokens && p.kind === "command") expect(p.tokens).toEqual(tokens);
  });

  it("treats platform-addressed text (DM, mention pill) as addressed without prefix", () => {
    expect(parse("help", true)).toMatchObject({ kind: "command", spec: { name: "help" } });
    expect(parse("why did the deploy fail", true)).toMatchObject({ kind: "command", spec: { name: "why" } });
    expect(parse("good morning", true)).toMatchObject({ kind: "unknown", word: "good" });
  });

  it("suggests the closest command for a typo", () => {
    const p = parse("!binder hepl");
    expect(p).toMatchObject({ kind: "unknown", suggestions: ["help"] });
    expect(parse("!binder xyzzy")).toMatchObject({ kind: "unknown", suggestions: [] });
  });

  it("refuses 10 kB of text without trying to tokenize it", () => {
    const p = parse(`!binder sha ${"a".repeat(10_000)}`);
    expect(p.kind).toBe("error");
    if (p.kind === "error") expect(p.error).toContain(String(MAX_TEXT));
  });

  it("keeps shell metacharacters as literal text", () => {
    const p = parse("!binder sha '$(touch /tmp/pwned)'");
    expect(p).toMatchObject({ kind: "command", tokens: ["$(touch /tmp/pwned)"] });
  });
});

describe("argument messages say what the user typed", () => {
  const sha = registry.get("sha")!;
  const error = (tokens: string[]) => {
    const r = bind(sha, tokens);
    return r.ok ? null : r.error;
  };

  it("reports a short flag as typed, not as a long one", () => {
    expect(error(["-c", "x"])).toBe("unknown flag '-c' (it takes no flags)");
    expect(error(["--chart=x"])).toBe("unknown flag '--chart' (it takes no flags)");
  });

  it("reports the words after a commit hash as unexpected, not the hash as a chart", () => {
    expect(error(["4e3bafb", "extra", "args", "here"])).toBe("too many arguments: 'extra args here' was not expected");
    expect(error(["#395", "please"])).toBe("too many arguments: 'please' was not expected");
    expect(error(["binderhub", "4e3bafb", "extra"])).toBe("too many arguments: 'extra' was not expected");
  });

  it("still takes a chart name before the ref", () => {
    const r = bind(sha, ["binderhub", "4e3bafb"]);
    expect(r.ok && r.invocation.args).toEqual({ chart: "binderhub", ref: "4e3bafb" });
    const one = bind(sha, ["4e3bafb"]);
    expect(one.ok && one.invocation.args).toEqual({ chart: undefined, ref: "4e3bafb" });
  });
});

describe("tokenize", () => {
  it.each([
    ["a b  c", ["a", "b", "c"]],
    ['"a b" c', ["a b", "c"]],
    ["'a \"b\"' c", ['a "b"', "c"]],
    ["“smart quotes” too", ["smart quotes", "too"]],
    ['"esc \\" quote"', ['esc " quote']],
    ['""', [""]],
    ["", []],
  ])("%j", (input, tokens) => {
    expect(tokenize(input)).toEqual({ ok: true, tokens });
  });
  it("reports an unbalanced quote", () => {
    expect(tokenize('a "b')).toMatchObject({ ok: false });
  });
});
