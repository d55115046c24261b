import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { recordHostDirs, restoreHostDirs } from "./host-dirs.js";

// A scratch folder stands in for the host: `netns` for /run/netns, the record for /run's record.
const scratch = mkdtempSync(join(tmpdir(), "apicache-host-dirs-"));
const netns = join(scratch, "netns");
const options = { recordPath: join(scratch, "record.json"), dirs: [netns] };

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("host folders the test clusters make", () => {
  it("are removed by the last of two overlapping clusters, though the first one made them", () => {
    recordHostDirs(options); // slot 5 up: /run/netns missing
    mkdirSync(netns); //        ... `ip netns add` makes it
    recordHostDirs(options); // slot 6 up: the record of the first cluster stays
    // slot 5 down: not the last cluster, nothing restored
    expect(restoreHostDirs(options)).toEqual([netns]); // slot 6 down, the last: gone
    expect(existsSync(netns)).toBe(false);
    expect(existsSync(options.recordPath)).toBe(false);
  });

  it("are kept when they were there before the first cluster", () => {
    mkdirSync(netns);
    recordHostDirs(options);
    expect(restoreHostDirs(options)).toEqual([]);
    expect(existsSync(netns)).toBe(true);
  });

  it("are kept when something else put files in them", () => {
    recordHostDirs(options);
    mkdirSync(netns);
    writeFileSync(join(netns, "someone-elses"), "");
    expect(restoreHostDirs(options)).toEqual([]);
    expect(existsSync(netns)).toBe(true);
  });

  it("never include a folder the record names but the caller did not list", () => {
    const other = join(scratch, "other");
    mkdirSync(other);
    writeFileSync(options.recordPath, JSON.stringify({ missing: [other] }));
    expect(restoreHostDirs(options)).toEqual([]);
    expect(existsSync(other)).toBe(true);
  });
});
