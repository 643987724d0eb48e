import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson, contentId, ID_PATTERN, withId } from "../../src/core/canonical.js";
import { CanonicalJsonError } from "../../src/core/errors.js";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

describe("canonicalJson (RFC 8785)", () => {
  it("matches the RFC 8785 §3.2.2 sample: numbers, escapes and literals", () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts non-ASCII keys by UTF-16 code units (RFC 8785 §3.2.3)", () => {
    const input = {
      "€": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "😀": "Emoji: Grinning Face",
      "\u0080": "Control",
      ö: "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("keeps array order, nests, and prints integers and fractions in ES6 form", () => {
    expect(
      canonicalJson({
        b: [
          [3, 2],
          [1, [0.5, -0]],
        ],
        a: { z: 1e21, y: 100, x: 0.1 },
      }),
    ).toBe('{"a":{"x":0.1,"y":100,"z":1e+21},"b":[[3,2],[1,[0.5,0]]]}');
  });

  it.each([
    ["NaN", { a: Number.NaN }, "$.a"],
    ["Infinity", { a: [1, Number.POSITIVE_INFINITY] }, "$.a[1]"],
    ["undefined", { a: undefined }, "$.a"],
    ["a class instance", { when: new Date(0) }, "$.when"],
    ["a function", { f: () => 1 }, "$.f"],
    ["a bigint", { n: 1n }, "$.n"],
  ])("rejects %s with a typed error naming the path", (_name, value, path) => {
    try {
      canonicalJson(value);
      expect.unreachable("must throw");
    } catch (error) {
      expect(error).toBeInstanceOf(CanonicalJsonError);
      expect((error as CanonicalJsonError).code).toBe("E_CANONICAL_JSON");
      expect((error as CanonicalJsonError).where.field).toBe(path);
    }
  });
});

describe("content ids (docs/design.md §2)", () => {
  it("is kind_v1_ + sha256 of the canonical JSON without the id field", () => {
    const object = { description: "Wie alt ist Zürich?", constraints: { top_k: 3 }, version: "1" };
    const expected = `spec_v1_${sha('{"constraints":{"top_k":3},"description":"Wie alt ist Zürich?","version":"1"}')}`;
    expect(contentId("spec", object)).toBe(expected);
    expect(contentId("spec", { ...object, id: "spec_v1_whatever" })).toBe(expected);
  });

  // Golden value computed independently: python3 hashlib over the canonical string.
  it("pins golden ids so a change to the rule cannot go unnoticed", () => {
    expect(
      contentId("claim", { statement: "茶道 is the Japanese tea ceremony.", supports: [], confidence: 0.75 }),
    ).toBe("claim_v1_fd8799f4abe63d65bbc17e5f06b4746da4621b3aec857e62de7fb1c05db405d4");
  });

  it("withId puts a recomputable id on the object", () => {
    const node = withId("node", { kind: "gather", deps: [], params: { top_k: 5 }, tool_requests: [] });
    expect(node.id).toMatch(ID_PATTERN);
    expect(contentId("node", node)).toBe(node.id);
  });
});
