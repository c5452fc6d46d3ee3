import { describe, expect, it } from "vitest";
import { escapeMrkdwn, normaliseIncoming, renderBlocks, renderSlack } from "../adapters/slack/render.ts";
import { code, codeBlock, fail, fields, link, list, ok, para, strong } from "../src/core/reply.ts";

describe("Slack rendering", () => {
  it("escapes & < > everywhere text goes, and nothing else", () => {
    expect(escapeMrkdwn("a<b>&c")).toBe("a&lt;b&gt;&amp;c");
    const r = renderSlack(ok([para("x < y & ", strong("<b>"), " ", code("a>b"))]));
    expect(r.text).toBe("x &lt; y &amp; *&lt;b&gt;* `a&gt;b`");
  });

  it("renders links as <url|text>, code blocks fenced, fields and lists", () => {
    const r = renderSlack(
      ok([
        para(link("https://x.org/a?b=1&c=2", "the PR"), " ", link("https://y.org")),
        codeBlock("line1\n<tag>"),
        fields([["Chart", code("1.0")]]),
        list(["one", [strong("two")]]),
      ]),
    );
    expect(r.text).toBe(
      "<https://x.org/a?b=1&amp;c=2|the PR> <https://y.org>\n\n```\nline1\n&lt;tag&gt;\n```\n\n*Chart*: `1.0`\n\n\u2022 one\n\u2022 *two*",
    );
    expect(r.blocks).toEqual([
      { type: "section", text: { type: "mrkdwn", text: "<https://x.org/a?b=1&amp;c=2|the PR> <https://y.org>", verbatim: true } },
      { type: "section", text: { type: "mrkdwn", text: "```\nline1\n&lt;tag&gt;\n```", verbatim: true } },
      { type: "section", fields: [{ type: "mrkdwn", text: "*Chart*\n`1.0`", verbatim: true }] },
      { type: "section", text: { type: "mrkdwn", text: "\u2022 one\n\u2022 *two*", verbatim: true } },
    ]);
  });

  it("keeps within Block Kit limits: 10 fields a section, 3000 chars a section, 50 blocks", () => {
    const many = fields(Array.from({ length: 23 }, (_, i) => [`f${i}`, `${i}`] as [string, string]));
    const b = renderBlocks(ok([many]));
    expect(b.map((x) => ("fields" in x ? x.fields.length : 0))).toEqual([10, 10, 3]);
    const long = renderBlocks(ok([para("x".repeat(5000))]));
    expect((long[0] as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(3000);
    const lots = renderBlocks(ok(Array.from({ length: 80 }, (_, i) => para(`p${i}`))));
    expect(lots).toHaveLength(50);
    expect(JSON.stringify(lots.at(-1))).toContain("31 more");
  });

  it("a code block containing ``` cannot close its fence early", () => {
    const r = renderSlack(ok([codeBlock("a ``` b")]));
    expect(r.text.match(/```/g)).toHaveLength(2);
  });

  it("carries the thread; a failure renders its line", () => {
    expect(renderSlack({ ...fail("no such chart"), thread: "123.4" })).toMatchObject({
      text: "no such chart",
      thread_ts: "123.4",
    });
  });
});

describe("Slack incoming text", () => {
  it("strips mentions of the bot and reports them", () => {
    expect(normaliseIncoming("<@UBOT> help", "UBOT")).toEqual({ text: "help", mentioned: true });
    expect(normaliseIncoming("hey <@UBOT|binderbot>   sha  abc", "UBOT")).toEqual({ text: "hey sha abc", mentioned: true });
    expect(normaliseIncoming("!binder help", "UBOT")).toEqual({ text: "!binder help", mentioned: false });
  });

  it("turns other markup into what a person sees and decodes entities", () => {
    expect(normaliseIncoming("ask <@U123> in <#C9|ops> <!here>", "UBOT").text).toBe("ask @U123 in #ops @here");
    expect(normaliseIncoming("see <https://github.com/a/b/pull/1|a/b#1> and <https://x.org>", "UBOT").text).toBe(
      "see https://github.com/a/b/pull/1 and https://x.org",
    );
    expect(normaliseIncoming("a &lt;b&gt; &amp;amp;", "UBOT").text).toBe("a <b> &amp;");
  });
});
