import { describe, expect, it } from "vitest";
import { widenToSentences } from "../../../src/core/retrieval/hits.js";
import { splitSentences } from "../../../src/core/text/sentences.js";

const doc =
  "# Piano\n\nThe piano is an instrument. It was invented in 1700. It has 88 keys. Pianos are loud.";
const bytes = Buffer.from(doc, "utf8");
const sentences = splitSentences(doc);
const at = (s: string) => bytes.indexOf(s);

describe("widenToSentences", () => {
  it("widens a chunk that starts and ends mid-sentence to whole sentences, plus the one before", () => {
    const [start, end] = widenToSentences(sentences, at("invented"), at("88"));
    expect(bytes.subarray(start, end).toString("utf8")).toBe(
      "The piano is an instrument. It was invented in 1700. It has 88 keys.",
    );
  });

  it("never reaches back into a heading", () => {
    const [start] = widenToSentences(sentences, at("piano is"), at("instrument"));
    expect(bytes.subarray(start, start + 9).toString("utf8")).toBe("The piano");
  });
});
