import { describe, expect, it } from "vitest";
import type { Database, Queryable } from "./database.js";
import { countStatements } from "./statement-counter.js";

function fakeDatabase(): Database & { sent: string[] } {
  const sent: string[] = [];
  const q: Queryable = {
    query: async <T>(sql: string) => {
      sent.push(sql);
      return [] as T[];
    },
  };
  return {
    sent,
    kind: "pglite",
    ...q,
    exec: async (sql) => {
      sent.push(sql);
    },
    transaction: (fn) => fn(q),
    close: async () => {},
  };
}

describe("countStatements", () => {
  it("counts every query and exec, inside transactions too, and passes them on", async () => {
    const inner = fakeDatabase();
    const db = countStatements(inner);
    await db.query("SELECT 1");
    await db.exec("CREATE TABLE t (x int)");
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      await tx.query("INSERT INTO t VALUES (2)");
    });
    expect(inner.sent).toHaveLength(4);
    expect(db.stats().statements).toBe(4);
  });

  it("sums the time spent awaiting statements, failed ones included", async () => {
    let clock = 0;
    const inner = fakeDatabase();
    inner.query = async () => {
      clock += 5;
      throw new Error("boom");
    };
    const db = countStatements(inner, () => clock);
    await expect(db.query("SELECT broken")).rejects.toThrow("boom");
    expect(db.stats()).toEqual({ statements: 1, queryMillis: 5, requests: 0 });
  });

  it("counts requests only when told to", () => {
    const db = countStatements(fakeDatabase());
    db.countRequest();
    db.countRequest();
    expect(db.stats().requests).toBe(2);
  });
});
