import { describe, expect, it } from "vitest";
import { FULL_SHA_PATTERN, isSha, parseRef, SHA_PATTERN } from "../src/core/ref.ts";

const FULL = "4e3bafb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7";

describe("the one SHA pattern", () => {
  it("takes 7 to 40 hex digits in either case, nothing shorter, longer or not hex", () => {
    expect(isSha("4e3bafb")).toBe(true);
    expect(isSha(FULL)).toBe(true);
    expect(isSha("4E3BAFB")).toBe(true);
    expect(isSha("4e3baf")).toBe(false);
    expect(isSha(`${FULL}0`)).toBe(false);
    expect(isSha("4e3bafg")).toBe(false);
    expect(isSha(" 4e3bafb")).toBe(false);
    expect(isSha("")).toBe(false);
  });

  it("builds larger patterns: a hash inside text, a full hash only", () => {
    const inText = new RegExp(String.raw`\bcommit (${SHA_PATTERN})\b`);
    expect(inText.exec("see commit 4e3bafb for it")?.[1]).toBe("4e3bafb");
    expect(inText.test("see commit 4e3ba for it")).toBe(false);
    const full = new RegExp(`^${FULL_SHA_PATTERN}$`);
    expect(full.test(FULL)).toBe(true);
    expect(full.test(FULL.slice(0, 39))).toBe(false);
    expect(full.test("4e3bafb")).toBe(false);
  });

  it("is what parseRef accepts as a hash, bare or in a commit URL", () => {
    expect(parseRef("4E3BAFB")).toEqual({ kind: "sha", sha: "4e3bafb" });
    expect(parseRef(`https://github.com/jupyterhub/binderhub/commit/${FULL}`)).toEqual({ kind: "sha", sha: FULL });
    // Six hex digits are too short to be a hash, so they name a branch.
    expect(parseRef("4e3baf")).toEqual({ kind: "branch", name: "4e3baf" });
  });
});
