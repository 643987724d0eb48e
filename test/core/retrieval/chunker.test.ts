import { describe, expect, it } from "vitest";
import type { CanonError } from "../../../src/core/errors.js";
import { chunkDocument } from "../../../src/core/retrieval/chunker.js";

const decode = (text: string, start: number, end: number) =>
  Buffer.from(text, "utf8").subarray(start, end).toString("utf8");

describe("chunkDocument", () => {
  it("returns UTF-8 byte spans that decode to the exact text, on multi-byte input", () => {
    const text =
      "Zürich café. 茶道 means the way of tea. Emoji 😀 and e\u0301 combining. Ωμέγα ends here. ".repeat(8);
    const spans = chunkDocument(text, { chunkChars: 40, overlapChars: 10 });
    expect(spans.length).toBeGreaterThan(5);
    const bytes = Buffer.from(text, "utf8");
    for (const { start, end } of spans) {
      const piece = decode(text, start, end);
      // Round trip: a span never cuts a character, so re-encoding gives the same bytes.
      expect(Buffer.compare(Buffer.from(piece, "utf8"), bytes.subarray(start, end))).toBe(0);
      expect(piece).not.toContain("\uFFFD");
      expect(text).toContain(piece);
      expect(piece).toBe(piece.trim());
    }
  });

  it("overlaps consecutive windows and always advances", () => {
    const text =
      "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau";
    const spans = chunkDocument(text, { chunkChars: 30, overlapChars: 12 });
    for (let i = 1; i < spans.length; i++) {
      const prev = spans[i - 1];
      const cur = spans[i];
      if (prev === undefined || cur === undefined) throw new Error("unreachable");
      expect(cur.start).toBeGreaterThan(prev.start);
      expect(cur.start).toBeLessThan(prev.end);
    }
    expect(spans.at(-1)?.end).toBe(text.length);
  });

  it("makes progress on text without any whitespace, and with overlap just below the window", () => {
    const text = "x".repeat(1000);
    const spans = chunkDocument(text, { chunkChars: 7, overlapChars: 6 });
    expect(spans[0]).toEqual({ start: 0, end: 7, textStart: 0, textEnd: 7 });
    expect(spans.at(-1)?.end).toBe(1000);
    const surrogates = "😀".repeat(50);
    for (const s of chunkDocument(surrogates, { chunkChars: 3, overlapChars: 2 })) {
      expect(decode(surrogates, s.start, s.end)).toMatch(/^(😀)+$/u);
    }
  });

  it("ends windows at sentence boundaries when one is in the window's second half", () => {
    const text = "The first sentence is here. The second one follows it closely and runs on for a while.";
    const [first] = chunkDocument(text, { chunkChars: 50, overlapChars: 10 });
    expect(first && decode(text, first.start, first.end)).toBe("The first sentence is here.");
  });

  it("gives no chunks for empty or blank text", () => {
    expect(chunkDocument("", { chunkChars: 10, overlapChars: 0 })).toEqual([]);
    expect(chunkDocument(" \n\t ", { chunkChars: 10, overlapChars: 0 })).toEqual([]);
  });

  it.each([
    [{ chunkChars: 0, overlapChars: 0 }],
    [{ chunkChars: 10, overlapChars: 10 }],
    [{ chunkChars: 10.5, overlapChars: 1 }],
    [{ chunkChars: 10, overlapChars: -1 }],
  ])("rejects invalid options %j with E_CHUNKING", (options) => {
    try {
      chunkDocument("text", options);
      expect.unreachable();
    } catch (error) {
      expect((error as CanonError).code).toBe("E_CHUNKING");
    }
  });
});
