import { parsePathTemplate } from "@apicache/crds";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizePath, splitTarget } from "./normalize-path.js";
import { compilePathMatcher, compileTagTemplate, pathSegments, tagValue } from "./path-matcher.js";

/** Properties of path normalization and matching: total on any input, and meaning-preserving. */

const anyText = fc.string({ unit: "binary", maxLength: 80 });

/** Paths from a small alphabet (no dots), so that distinct spellings of one path come up often. */
const pathText = fc
  .array(fc.constantFrom("/", "a", "A", "b", "%", "4", "1", "6", "2", "f", "F", "z", "~", "7", "e", "E"), {
    maxLength: 14,
  })
  .map((chars) => `/${chars.join("")}`);

/** Each segment percent-decoded to bytes (a stray `%` is itself); empty and dot segments resolved. */
function segmentBytes(path: string): string[] {
  const decoded = path
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => {
      let out = "";
      for (let i = 0; i < segment.length; i++) {
        const hex = segment.slice(i + 1, i + 3);
        if (segment[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 2;
        } else out += segment[i];
      }
      return out;
    });
  const out: string[] = [];
  for (const segment of decoded) {
    if (segment === "..") out.pop();
    else if (segment !== ".") out.push(segment);
  }
  return out;
}

/**
 * Another spelling of a path: some changes keep its meaning (an unreserved character escaped, hex case,
 * a doubled slash), others do not (a stray `%` escaped as `%25`, a letter's case, a character dropped).
 */
function respelling(path: string): fc.Arbitrary<string> {
  const chars = [...path];
  return fc
    .tuple(...chars.map((char) => fc.nat(5).map((choice) => respell(char, choice))))
    .map((parts) => parts.join(""));
}

function respell(char: string, choice: number): string {
  const hex = char.charCodeAt(0).toString(16).padStart(2, "0");
  switch (choice) {
    case 1:
      return /[A-Za-z0-9~]/.test(char) ? `%${hex.toUpperCase()}` : char;
    case 2:
      return /[A-Za-z0-9~]/.test(char) ? `%${hex.toLowerCase()}` : char === "/" ? "//" : char;
    case 3:
      return char === "%" ? "%25" : char;
    case 4:
      return char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase();
    case 5:
      return "";
    default:
      return char;
  }
}

describe("path normalization (properties)", () => {
  it("never throws on arbitrary input, always gives an absolute path, and is idempotent", () => {
    fc.assert(
      fc.property(anyText, (target) => {
        const { path } = splitTarget(target);
        const normal = normalizePath(path);
        expect(normal.startsWith("/")).toBe(true);
        expect(normalizePath(normal)).toBe(normal);
      }),
      { numRuns: 3_000 },
    );
  });

  it("merges only spellings with the same decoded segments (RFC 3986 §6.2.2)", () => {
    fc.assert(
      fc.property(
        pathText.chain((a) => fc.tuple(fc.constant(a), respelling(a))),
        ([a, b]) => {
          fc.pre(normalizePath(a) === normalizePath(b));
          expect(segmentBytes(a)).toEqual(segmentBytes(b));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

const templateText = fc
  .array(fc.constantFrom("a", "B", ":id", "*", "x%41", "c"), { minLength: 0, maxLength: 4 })
  .chain((segments) =>
    fc.boolean().map((rest) => `/${[...segments, ...(rest ? ["**"] : [])].join("/")}`.replace(/^\/$/, "/")),
  );

describe("path matching (properties)", () => {
  it("never throws on arbitrary paths, strict or lenient, and fills tags from what it captures", () => {
    fc.assert(
      fc.property(templateText, anyText, fc.boolean(), (source, target, ignoreCase) => {
        const parsed = parsePathTemplate(source);
        if (!parsed.ok) return;
        const matcher = compilePathMatcher(parsed.template, { ignoreCase });
        const params = matcher.match(pathSegments(normalizePath(splitTarget(target).path)));
        if (params === undefined) return;
        for (const value of Object.values(params)) expect(value).not.toBe("");
        expect(typeof compileTagTemplate("t:{id}")(params)).toBe("string");
      }),
      { numRuns: 3_000 },
    );
  });

  it("matches a lowercase spelling of what it matches strictly, when lenient", () => {
    fc.assert(
      fc.property(templateText, pathText, (source, path) => {
        const parsed = parsePathTemplate(source);
        if (!parsed.ok) return;
        const segments = pathSegments(normalizePath(path));
        fc.pre(compilePathMatcher(parsed.template).match(segments) !== undefined);
        const lower = segments.map((segment) => segment.toLowerCase());
        expect(compilePathMatcher(parsed.template, { ignoreCase: true }).match(lower)).toBeDefined();
      }),
      { numRuns: 3_000 },
    );
  });

  it("spells tag values canonically: idempotent, and decoding to the same text", () => {
    fc.assert(
      fc.property(anyText, (segment) => {
        const once = tagValue(segment);
        expect(tagValue(once)).toBe(once);
      }),
      { numRuns: 3_000 },
    );
  });
});
