import { describe, expect, it } from "vitest";
import { locatePin, PinEditError, rewritePin } from "../src/deploy/pin-edit.ts";
import { deployChartYaml } from "./helpers/deploy.ts";

describe("the pinned version line of the deploy chart file", () => {
  it("rewrites only the value, keeping its quotes and trailing comment", () => {
    const text = deployChartYaml("1.0.0-0.dev.git.1.h0000aaaa");
    const { text: out, location } = rewritePin(text, "binderhub", "1.0.0-0.dev.git.9.hbbbb1111");
    expect(location).toMatchObject({ line: 7, version: "1.0.0-0.dev.git.1.h0000aaaa" });
    expect(out).toBe(text.replace("1.0.0-0.dev.git.1.h0000aaaa", "1.0.0-0.dev.git.9.hbbbb1111"));
  });

  it("an unquoted value, single quotes, CRLF line endings and a dash-line version stay as written", () => {
    const crlf = "dependencies:\r\n- version: '0.1.0-abc1234'\r\n  name: binderhub\r\n- name: other\r\n  version: 4.0.1\r\n";
    expect(rewritePin(crlf, "binderhub", "0.1.0-def5678").text).toBe(crlf.replace("0.1.0-abc1234", "0.1.0-def5678"));
    expect(rewritePin(crlf, "other", "4.0.2").text).toBe(crlf.replace("4.0.1", "4.0.2"));
  });

  it("a nested key named version is not the dependency's version", () => {
    const text = "dependencies:\n  - name: binderhub\n    import-values:\n      - version: x\n    version: 1.2.3\n";
    expect(locatePin(text, "binderhub")).toMatchObject({ line: 4, version: "1.2.3" });
  });

  it("refuses what it cannot edit as one line, saying why", () => {
    expect(() => locatePin("dependencies: [{name: binderhub, version: 1.0.0}]\n", "binderhub")).toThrow(/not a block list/);
    expect(() => locatePin("dependencies:\n  - name: other\n    version: 1\n", "binderhub")).toThrow(
      "the chart file has no dependency named binderhub",
    );
    expect(() => locatePin("dependencies: [\n", "binderhub")).toThrow(PinEditError);
    expect(() => rewritePin(deployChartYaml("1.0.0"), "binderhub", "1.0.0\nevil: true")).toThrow(/is not a chart version/);
  });
});
