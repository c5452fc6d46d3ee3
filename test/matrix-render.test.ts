import { describe, expect, it } from "vitest";
import { noticeContent, renderHtml } from "../adapters/matrix/render.ts";
import { code, codeBlock, fail, fields, link, list, ok, para, strong } from "../src/core/reply.ts";

describe("Matrix rendering", () => {
  it("renders every block type as HTML, escaping all text", () => {
    const html = renderHtml(
      ok([
        para("a <b> & ", strong("bold"), " ", code("x<y"), " ", link("https://e.org/?a=1&b=2", "the <link>")),
        codeBlock("if (a < b) {}", "js"),
        fields([["Na<me", "v&lue"]]),
        list(["one", [code("two")]]),
      ]),
    );
    expect(html).toBe(
      '<p>a &lt;b&gt; &amp; <strong>bold</strong> <code>x&lt;y</code> <a href="https://e.org/?a=1&amp;b=2">the &lt;link&gt;</a></p>' +
        '<pre><code class="language-js">if (a &lt; b) {}</code></pre>' +
        "<ul><li><strong>Na&lt;me</strong>: v&amp;lue</li></ul>" +
        "<ul><li>one</li><li><code>two</code></li></ul>",
    );
  });

  it("never makes a link of an unsafe scheme, nor a class of a strange language", () => {
    expect(renderHtml(ok([para(link("javascript:alert(1)", "click"))]))).toBe("<p>click</p>");
    expect(renderHtml(ok([codeBlock("x", 'js" onclick="x')]))).toBe("<pre><code>x</code></pre>");
  });

  it("user text that says @room (or names a user) stays inert: m.mentions is always empty", () => {
    const echo = fail("I don't know the command '@room'. Ask @alice:example.org or https://matrix.to/#/@bob:example.org");
    const c = noticeContent(echo, { inReplyTo: "$q" });
    expect(c["m.mentions"]).toEqual({}); // an explicit empty m.mentions: no @room, no user pings (MSC3952)
    expect(JSON.stringify(c)).not.toContain('"room":true');
    expect(c.formatted_body).not.toContain("<a ");
  });

  it("makes an m.notice reply, or a reply inside a thread", () => {
    const r = fail("nope");
    expect(noticeContent(r, { inReplyTo: "$q" })).toEqual({
      msgtype: "m.notice",
      body: "nope",
      format: "org.matrix.custom.html",
      formatted_body: "<p>nope</p>",
      "m.mentions": {},
      "m.relates_to": { "m.in_reply_to": { event_id: "$q" } },
    });
    expect(noticeContent(r, { inReplyTo: "$q", thread: "$root" })["m.relates_to"]).toEqual({
      rel_type: "m.thread",
      event_id: "$root",
      is_falling_back: false,
      "m.in_reply_to": { event_id: "$q" },
    });
    // Unasked, in a thread: the thread fallback points at the root.
    expect(noticeContent(r, { thread: "$root" })["m.relates_to"]).toEqual({
      rel_type: "m.thread",
      event_id: "$root",
      is_falling_back: true,
      "m.in_reply_to": { event_id: "$root" },
    });
    expect(noticeContent(r)["m.relates_to"]).toBeUndefined();
  });
});
