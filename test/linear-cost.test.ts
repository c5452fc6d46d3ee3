import { describe, it } from "vitest";
import { withoutMention } from "../adapters/matrix/mention.ts";
import { normaliseIncoming } from "../adapters/slack/render.ts";
import { commands } from "../src/commands/index.ts";
import { MAX_TEXT, Parser } from "../src/core/parse.ts";
import { Registry } from "../src/core/registry.ts";
import { expectLinear, fill, shapes } from "./helpers/linear.ts";

// Every input a room member can send is read in linear time: the parser with the real commands'
// intents, the Matrix mention reader, the Slack text normaliser. Each check compares the cost of an
// input with that of one 4× as large (a ratio, never a wall-clock threshold).

const parser = new Parser(new Registry(commands), { prefix: "!binder", names: ["binderbot"] });
const parse = (text: string) => parser.parse({ text, addressed: false });
const SIZE = Math.floor(MAX_TEXT / 4.5); // 4× still fits in one message the parser reads

const NBSP = "\u00a0";
const parserShapes: Array<[string, (n: number) => string]> = [
  ["sha intent: repeated keywords and no-break spaces", (n) => `@binderbot which ${fill(`sha${NBSP}version${NBSP}`, n)}`],
  ["sha intent: repeated 'for' without a ref", (n) => `@binderbot which sha ${fill("for ", n)}x`],
  ["sha intent: repeated 'sha for #1'", (n) => `@binderbot what ${fill("sha for #1 ", n)}?x`],
  ["sha intent: a run of mixed Unicode spaces", (n) => `@binderbot which sha for #1${fill(`${NBSP} \u2003\u3000\u202f`, n)}x`],
  ["sha intent: a long URL after 'for'", (n) => `@binderbot which sha for https://github.com/${fill("a", n)} x`],
  ["sha intent: hex runs after 'for'", (n) => `@binderbot which sha ${fill("for abcdef0 ", n)}!`],
  ["why intent: a run of spaces", (n) => `@binderbot why did the deploy${fill(` ${NBSP}`, n)}x`],
  ["a command word of punctuation", (n) => `!binder ${fill("!", n)}a`],
  ["quotes and backslashes", (n) => `!binder sha ${fill('"\\', n)}`],
];

describe("linear cost", () => {
  it.each(parserShapes)("parser: %s", (what, make) => expectLinear(what, parse, make, SIZE));

  const words = ["which ", "what ", "sha", "version ", "chart", " for ", "of ", "is ", "#1", " 4e3bafb", "https://github.com/a"];
  const marks = ["?", "!", ":", ",", " ", NBSP, "\u2003", "\n", "why did ", "the ", "deploy", "fail", "pr ", '"', "\\"];
  it.each(shapes([...words, ...marks], 8, 9).map((make, i) => [i, make] as const))("parser: random shape %i", (i, make) =>
    expectLinear(`random parser shape ${i}: ${JSON.stringify(make(40))}`, parse, (n) => `@binderbot ${make(n)}`, SIZE),
  );

  const me = "@bot:example.org";
  const pill = `<a href="https://matrix.to/#/${me}"`;
  const matrix = (html: (n: number) => string) => (n: number) =>
    JSON.stringify({ body: `BinderBot: help ${"x".repeat(n)}`, formatted_body: html(n) });
  const strip = (json: string) => withoutMention(JSON.parse(json) as Record<string, unknown>, me);
  const matrixShapes: Array<[string, (n: number) => string]> = [
    ["unclosed mention pills", matrix((n) => fill(pill, n))],
    ["pills closed without text", matrix((n) => fill(`${pill}>`, n))],
    ["pills with unclosed text", matrix((n) => fill(`${pill}>BinderBot<b`, n))],
    ["anchors with no end", matrix((n) => fill("<a x", n))],
  ];
  it.each(matrixShapes)("matrix mention: %s", (what, make) => expectLinear(what, strip, make, 4000));
  const htmlBits = [
    "<a",
    " href=",
    `"https://matrix.to/#/${me}"`,
    ">",
    "BinderBot",
    "</a>",
    "<",
    "&amp;",
    ":",
    " ",
    "matrix.to/#/",
  ];
  it.each(shapes(htmlBits, 8, 23).map((make, i) => [i, make] as const))("matrix mention: random shape %i", (i, make) =>
    expectLinear(`random mention shape ${i}: ${JSON.stringify(make(60))}`, strip, matrix(make), 4000),
  );

  const slack = (text: string) => normaliseIncoming(text, "UBOT");
  const slackBits = ["<", ">", "@U1", "|", "!here", "#C1", "&lt;", "&amp;", " ", "\t", "<@UBOT>", "^", "<http://x|"];
  it.each([
    ["unclosed angle brackets", (n: number) => fill("<@U1|", n)],
    ["nested opens", (n: number) => fill("<<|", n)],
    ["runs of blanks", (n: number) => fill(" \t", n)],
    ...shapes(slackBits, 8, 77).map((make, i) => [`random shape ${i}`, make] as const),
  ] as Array<[string, (n: number) => string]>)("slack text: %s", (what, make) => expectLinear(what, slack, make, 4000));
});
