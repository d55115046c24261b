import { describe, expect, it } from "vitest";
import { coresUsed, cpuSeconds, parseProcStatTicks } from "./proc-cpu.js";

describe("parseProcStatTicks", () => {
  it("adds user and system time (fields 14 and 15)", () => {
    const stat = "4242 (node) S 1 4242 4242 0 -1 4194560 1200 0 3 0 731 96 0 0 20 0 11 0 5000 1000 2000";
    expect(parseProcStatTicks(stat)).toBe(731 + 96);
  });

  it("copes with spaces and parentheses in the command name", () => {
    const stat = "77 (my (odd) proc) R 1 77 77 0 -1 0 0 0 0 0 5 7 0 0 20 0 1 0 10 10 10";
    expect(parseProcStatTicks(stat)).toBe(12);
  });

  it("refuses a line it cannot read", () => {
    expect(() => parseProcStatTicks("garbage")).toThrow(/unexpected/);
  });
});

describe("cpuSeconds", () => {
  it("reads this process's CPU time, which grows with work", () => {
    const before = cpuSeconds(process.pid);
    let x = 0;
    const until = performance.now() + 60;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const after = cpuSeconds(process.pid);
    expect(before).toBeGreaterThanOrEqual(0);
    expect(after).toBeGreaterThan(before as number);
  });

  it("is undefined for no process", () => {
    expect(cpuSeconds(undefined)).toBeUndefined();
  });
});

describe("coresUsed", () => {
  it("divides CPU seconds by wall seconds", () => {
    expect(coresUsed(10, 13, 6)).toBe(0.5);
    expect(coresUsed(undefined, 13, 6)).toBeNaN();
  });
});
