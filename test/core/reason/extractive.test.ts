import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/canonical.js";
import { extractiveReasoner, splitSentences } from "../../../src/core/reason/extractive.js";
import type { ReasonerEvidence } from "../../../src/core/reason/reasoner.js";
import { contentTerms } from "../../../src/core/retrieval/analyzer.js";

function evidence(id: string, text: string, rank: number, docId = `${id}.md`): ReasonerEvidence {
  return { id, docId, span: [0, Buffer.byteLength(text)], rank, text };
}

const derive = (question: string, ev: ReasonerEvidence[], minSupports = 1, maxCitations = 2) =>
  extractiveReasoner.derive({
    question,
    queryTerms: contentTerms(question),
    evidence: ev,
    minSupports,
    maxCitations,
  });

describe("splitSentences", () => {
  it("returns exact UTF-8 byte spans and skips headings and fragments", () => {
    const text =
      "# Zürich\n\nZürich lies on Lake Zürich in Switzerland. Its café culture is old! Short one.\n";
    const sentences = splitSentences(text);
    expect(sentences.map((s) => s.text)).toEqual([
      "Zürich lies on Lake Zürich in Switzerland.",
      "Its café culture is old!",
    ]);
    const bytes = Buffer.from(text, "utf8");
    for (const s of sentences) expect(bytes.subarray(s.start, s.end).toString("utf8")).toBe(s.text);
  });
});

describe("extractiveReasoner", () => {
  it("cites the sentence sharing the most content words, verbatim, with its hash", () => {
    const d = derive("When did the Golden Gate Bridge open?", [
      evidence(
        "e1",
        "Bridges carry roads over water. The Golden Gate Bridge opened to traffic in 1937 after four years of work.",
        1,
      ),
      evidence("e2", "A bridge hand in cards has thirteen cards for each player.", 2),
    ]);
    expect(d.kind).toBe("claim");
    if (d.kind !== "claim") return;
    expect(d.statement).toBe("The Golden Gate Bridge opened to traffic in 1937 after four years of work.");
    const [first] = d.citations;
    expect(first?.evidence_id).toBe("e1");
    const bytes = Buffer.from(
      "Bridges carry roads over water. The Golden Gate Bridge opened to traffic in 1937 after four years of work.",
    );
    expect(first && sha256Hex(bytes.subarray(first.span[0], first.span[1]))).toBe(first?.sha256);
  });

  it("never cites a sentence that shares only stop words with the question", () => {
    const d = derive("What is it that they were doing there?", [
      evidence("e1", "They were there and it is what it was, doing that.", 1),
    ]);
    expect(d.kind).toBe("insufficient");
  });

  it("is insufficient with fewer relevant pieces than min_supports", () => {
    const ev = [
      evidence("e1", "Volcanoes erupt when magma rises through the crust.", 1),
      evidence("e2", "Bread needs flour, water and yeast.", 2),
    ];
    const d = derive("Why do volcanoes erupt?", ev, 2, 2);
    expect(d).toMatchObject({ kind: "insufficient", relevantEvidence: 1, required: 2 });
  });

  it("cites a sentence once even when overlapping chunks both hold it", () => {
    const text = "Tides are caused by the gravity of the Moon and the Sun acting on the oceans.";
    const d = derive(
      "What causes tides?",
      [evidence("a", text, 1, "tides.md"), evidence("b", text, 2, "tides.md")],
      1,
      3,
    );
    expect(d.kind === "claim" && d.citations.length).toBe(1);
  });

  it("breaks ties by retrieval rank, deterministically", () => {
    const ev = [
      evidence("r2", "Copper conducts electricity very well in wires.", 2),
      evidence("r1", "Silver conducts electricity best of all metals.", 1),
    ];
    const d = derive("Which metal conducts electricity?", ev, 1, 1);
    expect(d.kind === "claim" && d.citations[0]?.evidence_id).toBe("r1");
    expect(derive("Which metal conducts electricity?", [...ev].reverse(), 1, 1)).toEqual(d);
  });
});
