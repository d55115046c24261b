import { describe, expect, it } from "vitest";
import { normalizePath, splitTarget } from "./normalize-path.js";

describe("normalizePath", () => {
  it.each([
    ["/", "/"],
    ["/api/v2/services", "/api/v2/services"],
    ["/api//v2///services", "/api/v2/services"],
    ["/api/v2/services/", "/api/v2/services/"],
    ["/api/./v2/x/../services", "/api/v2/services"],
    ["/api/v2/services/..", "/api/v2/"],
    ["/../../etc/passwd", "/etc/passwd"],
    ["/%61%70%69/v2", "/api/v2"],
    ["/api/%7euser", "/api/~user"],
    ["/a%2fb", "/a%2Fb"],
    ["/a%2Fb/%e2%82%ac", "/a%2Fb/%E2%82%AC"],
    ["/a/%2e%2e/b", "/b"],
    ["/100%", "/100%"],
    ["/a%zzb", "/a%zzb"],
    ["/a%25zzb", "/a%25zzb"],
    ["relative/path", "/relative/path"],
    ["", "/"],
  ])("normalizes %j to %j", (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it("returns an already-normal path unchanged", () => {
    const path = "/api/v2/barbers/42/slots";
    expect(normalizePath(path)).toBe(path);
  });
});

describe("splitTarget", () => {
  it.each([
    ["/a/b?x=1&y=2", "/a/b", "x=1&y=2"],
    ["/a/b", "/a/b", ""],
    ["/a?", "/a", ""],
    ["/a?x=1#frag", "/a", "x=1"],
    ["http://example.test/a/b?q=1", "/a/b", "q=1"],
    ["http://example.test?q=1", "/", "?q=1".slice(1)],
    ["http://example.test", "/", ""],
    ["*", "*", ""],
  ])("splits %j into path %j and query %j", (target, path, query) => {
    expect(splitTarget(target)).toEqual({ path, query });
  });
});
