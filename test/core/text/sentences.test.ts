import { describe, expect, it } from "vitest";
import { refersBack, splitSentences } from "../../../src/core/text/sentences.js";

const texts = (t: string) => splitSentences(t).map((s) => s.text);

describe("splitSentences", () => {
  it("splits at full stops, question and exclamation marks", () => {
    expect(texts("One two three. Four five six? Seven eight nine! Ten.")).toEqual([
      "One two three.",
      "Four five six?",
      "Seven eight nine!",
      "Ten.",
    ]);
  });

  it.each([
    ["a binomial", "Antibiotics favour C. difficile over the gut flora. It then grows."],
    ["e.g.", "Some drugs, e.g. Aspirin, thin the blood. Others do not."],
    ["i.e.", "The dose, i.e. The amount given, matters. Timing too."],
    ["et al.", "As Smith et al. Reported in 2004, rates fell. They rose later."],
    ["Fig. 2", "The effect is shown in Fig. 2 and Table 1. It is large."],
    ["U.S.", "Adults in the U.S. Army were enrolled. Most were men."],
    ["approx.", "The cohort had approx. 500 members. All consented."],
    ["a decimal", "The ratio was 2.5 in the treated group. It was 1.1 otherwise."],
    ["initials", "The method of J. R. Smith was used. It works."],
    ["vs.", "Treated vs. Untreated mice differed. The effect was strong."],
  ])("does not break inside %s", (_name, text) => {
    expect(texts(text)).toHaveLength(2);
  });

  it("still ends a sentence after a closing capital such as vitamin D", () => {
    expect(texts("Patients lacked vitamin D. The trial stopped.")).toEqual([
      "Patients lacked vitamin D.",
      "The trial stopped.",
    ]);
  });

  it("keeps closing quotes and brackets with their sentence", () => {
    expect(texts('He said "stop." Then he left. (It rained.) Done here.')).toEqual([
      'He said "stop."',
      "Then he left.",
      "(It rained.)",
      "Done here.",
    ]);
  });

  it("breaks at line ends and flags headings", () => {
    const s = splitSentences("# Piano\n\nThe piano is an instrument. It was invented in 1700.");
    expect(s.map((x) => [x.text, x.heading])).toEqual([
      ["# Piano", true],
      ["The piano is an instrument.", false],
      ["It was invented in 1700.", false],
    ]);
  });

  it("gives exact UTF-8 byte spans", () => {
    const text = "Zürich is old. 茶道 means the way of tea. Ok then.";
    const bytes = Buffer.from(text, "utf8");
    for (const s of splitSentences(text))
      expect(bytes.subarray(s.start, s.end).toString("utf8")).toBe(s.text);
  });
});

describe("refersBack", () => {
  it("recognises sentences that lean on the one before", () => {
    expect(refersBack("It was invented around 1700.")).toBe(true);
    expect(refersBack("These cells divide.")).toBe(true);
    expect(refersBack("Italy is a country.")).toBe(false);
    expect(refersBack("The piano is loud.")).toBe(false);
  });
});
