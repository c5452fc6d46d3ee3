import { describe, expect, it } from "vitest";
import { networkCause } from "../src/core/network.ts";
import { clip, errorLine, firstLine } from "../src/core/one-line.ts";

describe("an error as one line", () => {
  it("is the first line of the message, never the stack or a code frame below it", () => {
    const e = new Error("bad indentation of a mapping entry (3:5)\n\n 1 | a:\n 2 |   b\n-----^");
    expect(errorLine(e)).toBe("bad indentation of a mapping entry (3:5)");
    expect(errorLine(e)).not.toMatch(/\n|at /);
  });

  it("takes whatever was thrown: a string, an object with a message, null", () => {
    expect(errorLine("plain text\nsecond")).toBe("plain text");
    expect(errorLine({ message: "from an object" })).toBe("from an object");
    expect(errorLine(null)).toBe("null");
    expect(errorLine(42)).toBe("42");
  });

  it("says 'unknown error' rather than nothing", () => {
    expect(errorLine(new Error(""))).toBe("unknown error");
    expect(errorLine(new Error("\nonly below"))).toBe("unknown error");
    expect(errorLine("")).toBe("unknown error");
  });

  it("is clipped to max characters for chat when asked", () => {
    const long = new Error("x".repeat(500));
    expect(errorLine(long)).toHaveLength(500);
    expect(errorLine(long, 200)).toBe(`${"x".repeat(199)}…`);
  });
});

describe("text in one line", () => {
  it("clip collapses whitespace, trims and cuts with an ellipsis", () => {
    expect(clip("  a\n  b\tc  ")).toBe("a b c");
    expect(clip("abcdefghij", 5)).toBe("abcd…");
    expect(clip("abcde", 5)).toBe("abcde");
  });

  it("firstLine stops at the first newline", () => {
    expect(firstLine(" one \ntwo")).toBe("one");
    expect(firstLine("")).toBe("");
  });
});

describe("a network failure as one line", () => {
  const fetchFailed = (cause: object) => Object.assign(new TypeError("fetch failed"), { cause });

  it("is the cause at the bottom of Node's 'fetch failed', its code first when the message lacks it", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(networkCause(fetchFailed(refused))).toBe("connect ECONNREFUSED 127.0.0.1:1");
    const closed = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(networkCause(fetchFailed(closed))).toBe("UND_ERR_SOCKET: other side closed");
    const aggregate = Object.assign(new AggregateError([], ""), { code: "ECONNREFUSED" });
    expect(networkCause(fetchFailed(aggregate))).toBe("ECONNREFUSED");
  });

  it("says 'timed out' for a timeout and the message otherwise", () => {
    expect(networkCause(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe("timed out");
    expect(networkCause(new SyntaxError("Unexpected token < in JSON\nat position 0"))).toBe("Unexpected token < in JSON");
    expect(networkCause("nothing")).toBe("network error");
  });
});

describe("the adapters' error lines: errorLine with the platform's code, never a token", () => {
  it("Matrix: the errcode and status of a MatrixError; a token in a URL scrubbed", async () => {
    const { MatrixError } = await import("matrix-js-sdk");
    const { matrixErrorLine } = await import("../adapters/matrix/errors.ts");
    expect(matrixErrorLine(new MatrixError({ errcode: "M_FORBIDDEN", error: "You are not invited" }, 403))).toBe(
      "M_FORBIDDEN 403: You are not invited",
    );
    const leaky = new Error("GET https://hs/_matrix/client/v3/sync?access_token=syt_secret&since=s1 failed\n    at x");
    expect(matrixErrorLine(leaky)).toBe("GET https://hs/_matrix/client/v3/sync?access_token=***&since=s1 failed");
  });

  it("Slack: the Web API's error code when it has one; a token in a message scrubbed", async () => {
    const { slackErrorLine } = await import("../adapters/slack/log.ts");
    expect(slackErrorLine({ message: "An API error occurred: invalid_auth", data: { ok: false, error: "invalid_auth" } })).toBe(
      "invalid_auth",
    );
    expect(slackErrorLine(new Error("socket for xapp-1-A0-123-abc closed\n    at y"))).toBe("socket for xapp-*** closed");
    expect(slackErrorLine(null)).toBe("null");
  });
});
