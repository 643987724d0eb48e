/**
 * The English analyzer memoizes stems (issue 25: query analysis cost more than a small index's
 * search). A memoized stem must be the stemmer's, before and after the memo is cleared.
 */
import { stemmer } from "stemmer";
import { describe, expect, it } from "vitest";
import { getAnalyzer, STOP_WORDS } from "../../../src/core/retrieval/analyzer.js";

describe("the english analyzer's stem memo", () => {
  it("gives the stemmer's stem for every word, repeated, and past the memo's size", () => {
    const english = getAnalyzer("english");
    const words = [
      "running",
      "runs",
      "ran",
      "connection",
      "connected",
      "generalizations",
      "ponies",
      "caresses",
    ];
    // More distinct words than the memo holds (65,536), so it is cleared on the way.
    for (let i = 0; i < 70_000; i++) words.push(`w${i.toString(36)}ing`);
    for (const pass of [1, 2])
      for (const word of words) expect(english.term(word), `pass ${pass} ${word}`).toBe(stemmer(word));
    for (const word of STOP_WORDS) expect(english.term(word)).toBeNull();
    expect(english.tokenize("The runners were running; connections connected.")).toEqual(
      ["runner", "run", "connect", "connect"].map((w) => stemmer(w)),
    );
  });
});
