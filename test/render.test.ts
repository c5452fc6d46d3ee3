import { describe, expect, it } from "vitest";
import { renderMarkdown, renderPlain } from "../src/core/render.ts";
import { code, codeBlock, fields, link, list, ok, para, strong } from "../src/core/reply.ts";

const reply = ok([
  para(
    "Pin ",
    code("0.1.0-441f5ea"),
    " for ",
    strong("binderhub"),
    " (",
    link("https://github.com/jupyterhub/binderhub/pull/395", "#395"),
    ")",
  ),
  fields([
    ["Chart commit", code("441f5ea")],
    ["Published", ["yes, ", link("https://jupyterhub.github.io/helm-chart/")]],
  ]),
  codeBlock('version: "0.1.0-441f5ea"', "yaml"),
  list(["first", [code("second")]]),
]);

describe("core renderers", () => {
  it("renders plain text for the terminal and ask", () => {
    expect(renderPlain(reply)).toBe(
      [
        "Pin 0.1.0-441f5ea for binderhub (#395 (https://github.com/jupyterhub/binderhub/pull/395))",
        "Chart commit: 441f5ea\nPublished: yes, https://jupyterhub.github.io/helm-chart/",
        '    version: "0.1.0-441f5ea"',
        "  - first\n  - second",
      ].join("\n\n"),
    );
  });

  it("renders CommonMark, escaping what users typed", () => {
    expect(renderMarkdown(reply)).toBe(
      [
        "Pin `0.1.0-441f5ea` for **binderhub** ([\\#395](https://github.com/jupyterhub/binderhub/pull/395))",
        "- **Chart commit**: `441f5ea`\n- **Published**: yes, <https://jupyterhub.github.io/helm-chart/>",
        '```yaml\nversion: "0.1.0-441f5ea"\n```',
        "- first\n- `second`",
      ].join("\n\n"),
    );
    const hostile = ok([para("*not bold* <script> [x](y) ", code("a`b"))]);
    expect(renderMarkdown(hostile)).toBe("\\*not bold\\* \\<script\\> \\[x\\](y) ``a`b``");
  });

  it("fences code blocks that themselves contain fences", () => {
    expect(renderMarkdown(ok([codeBlock("```\ninner\n```")]))).toBe("````\n```\ninner\n```\n````");
  });
});
