import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { declaredQuery, formatQuery } from "./query.js";

/**
 * Properties of query normalization. Two queries share a key only when every reading an upstream may
 * apply gives the same declared parameters: RFC 3986 percent-decoding (`+` is a plus) and
 * application/x-www-form-urlencoded (`+` is a space), each telling `q` (no value) from `q=`.
 */

/** Small alphabets, so that generated queries often differ by one spelling detail. */
const queryText = fc
  .array(
    fc.constantFrom("q", "Q", "r", "=", "&", "%", "2", "5", "4", "1", "7", "e", "E", "z", "+", "a", "A"),
    {
      maxLength: 14,
    },
  )
  .map((chars) => chars.join(""));

type Reading = [name: string, value: string | null][];

/** Percent-decodes to bytes (a stray `%` is itself), then to text; `plus` turns `+` into a space. */
function decodeBytes(text: string, plus: boolean): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const hex = text.slice(i + 1, i + 3);
    if (char === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(plus && char === "+" ? " " : char));
  }
  return Buffer.from(bytes).toString("latin1");
}

function reading(query: string, declared: readonly string[], plus: boolean): Reading {
  const pairs: Reading = [];
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const name = decodeBytes(equals === -1 ? pair : pair.slice(0, equals), plus);
    const value = equals === -1 ? null : decodeBytes(pair.slice(equals + 1), plus);
    pairs.push([name, value]);
  }
  // Only declared parameters reach the upstream; it sees them in the canonical (stable-sorted) order.
  return pairs
    .filter(([name]) => declared.includes(name))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const canonical = (query: string, declared: readonly string[]) => formatQuery(declaredQuery(query, declared));

describe("query normalization (properties)", () => {
  const declared = ["q", "r"];

  it("never lets two queries an upstream may read differently share a key", () => {
    fc.assert(
      fc.property(queryText, queryText, (a, b) => {
        fc.pre(canonical(a, declared) === canonical(b, declared));
        // Names are matched form-decoded, so readings are compared on the declared names they give.
        for (const plus of [false, true]) {
          const fromA = reading(canonical(a, declared), declared, plus);
          const fromB = reading(canonical(b, declared), declared, plus);
          expect(reading(a, declared, plus)).toEqual(fromA);
          expect(reading(b, declared, plus)).toEqual(fromB);
          expect(fromA).toEqual(fromB);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it("keeps the meaning of what it forwards: the canonical query reads as the original does", () => {
    fc.assert(
      fc.property(queryText, (query) => {
        const out = canonical(query, declared);
        for (const plus of [false, true]) {
          // Declared names spelled alike (no `+`/escape ambiguity in `q`/`r`) read the same.
          expect(reading(out, declared, plus)).toEqual(reading(query, declared, plus));
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it("never throws, and is idempotent, on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 64 }),
        fc.array(fc.string(), { maxLength: 3 }),
        (query, names) => {
          const once = canonical(query, names);
          expect(canonical(once, names)).toBe(once);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
