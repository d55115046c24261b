import { describe, expect, it } from "vitest";
import { supportsNativeSidecar } from "./native-sidecar.js";

describe("supportsNativeSidecar", () => {
  it.each([
    [{ major: "1", minor: "28" }, false],
    // SidecarContainers is on, but a Service's named targetPort on an init container gets no endpoints.
    [{ major: "1", minor: "29" }, false],
    [{ major: "1", minor: "31+" }, false],
    [{ major: "1", minor: "32" }, true],
    [{ major: "1", minor: "35" }, true],
    [{ major: "2", minor: "0" }, true],
    [{ major: "", minor: "" }, false],
    [{}, false],
  ])("%j → %s", (version, native) => {
    expect(supportsNativeSidecar(version)).toBe(native);
  });
});
