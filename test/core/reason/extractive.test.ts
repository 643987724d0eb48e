import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/canonical.js";
import type { TermStats } from "../../../src/core/models/trace.js";
import { extractiveReasoner, termWeights } from "../../../src/core/reason/extractive.js";
import type { ReasonerEvidence } from "../../../src/core/reason/reasoner.js";
import { contentTerms } from "../../../src/core/retrieval/analyzer.js";

function evidence(id: string, text: string, rank: number, docId = `${id}.md`): ReasonerEvidence {
  return { id, docId, span: [0, Buffer.byteLength(text)], rank, text };
}

const derive = (
  question: string,
  ev: ReasonerEvidence[],
  minSupports = 1,
  maxCitations = 2,
  extra: { minConfidence?: number; termStats?: TermStats } = {},
) =>
  extractiveReasoner.derive({
    question,
    queryTerms: contentTerms(question),
    evidence: ev,
    minSupports,
    maxCitations,
    ...extra,
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

  it('answers an "It ..." sentence together with the sentence it refers to', () => {
    const text =
      "The piano is a keyboard instrument in which a hammer strikes a string. " +
      "It was invented around 1700 in Florence by Bartolomeo Cristofori. It has 88 keys.";
    const d = derive("Who invented the piano?", [evidence("p", text, 1)]);
    expect(d.kind).toBe("claim");
    if (d.kind !== "claim") return;
    expect(d.statement).toBe(
      "The piano is a keyboard instrument in which a hammer strikes a string. " +
        "It was invented around 1700 in Florence by Bartolomeo Cristofori.",
    );
    // Extractive 3: a probability, never 1; the whole question is covered, so it is high.
    expect(d.confidence).toBeGreaterThan(0.5);
    expect(d.confidence).toBeLessThan(1);
    expect(d.citations).toHaveLength(1);
  });

  it("matches an irregular past form to its verb", () => {
    const text =
      "Gothic architecture is a style of building from medieval Europe. " +
      "It began in France, where Abbot Suger rebuilt the choir of Saint-Denis.";
    const d = derive("Where did Gothic architecture begin?", [evidence("g", text, 1)]);
    expect(d.kind === "claim" && d.statement).toContain("France");
  });

  it('reads a measurement as the answer to "how long"', () => {
    const text =
      "The Great Barrier Reef is the largest coral reef system in the world. " +
      "It stretches for more than 2,300 kilometres and has 3,000 reefs.";
    const d = derive("How long is the Great Barrier Reef?", [evidence("r", text, 1)]);
    expect(d.kind === "claim" && d.statement).toContain("2,300");
  });

  it("is insufficient when only a common word of the question matches, and names the best candidate", () => {
    const stats: TermStats = {
      chunks: 1000,
      avg_chunk_len: 100,
      df: { won: 40, 2018: 0, fifa: 0, world: 120, cup: 5, final: 30 },
    };
    const d = derive(
      "Who won the 2018 FIFA World Cup final?",
      [evidence("b", "In bridge, a trick is won by the highest card of the suit that was led.", 1)],
      1,
      2,
      { termStats: stats },
    );
    expect(d.kind).toBe("insufficient");
    if (d.kind !== "insufficient") return;
    expect(d.confidence).toBeLessThan(0.2);
    expect(d.reason).toContain("In bridge, a trick is won");
  });

  it("applies min_confidence as the threshold", () => {
    const ev = [evidence("v", "Volcanoes erupt when magma rises through the crust.", 1)];
    // Covers "volcano" and "erupt" but not "iceland": answered at its confidence, not above.
    const q = "Why do volcanoes erupt in Iceland?";
    const c = derive(q, ev, 1, 2, { minConfidence: 0 }).confidence ?? -1;
    expect(c).toBeGreaterThan(0);
    expect(derive(q, ev, 1, 2, { minConfidence: c }).kind).toBe("claim");
    expect(derive(q, ev, 1, 2, { minConfidence: c + 0.0001 }).kind).toBe("insufficient");
  });

  it("adds a citation only when it is about as strong and adds a source or a part of the question", () => {
    const ev = [
      evidence("a", "Bats are the only mammals capable of true sustained flight.", 1, "bats.md"),
      evidence("b", "Honeybees are flying insects that make honey.", 2, "bees.md"),
      evidence("c", "Bats are mammals capable of powered flight, and they hunt insects.", 3, "bats2.md"),
    ];
    const d = derive("Which mammals are capable of flight?", ev, 1, 3);
    expect(d.kind === "claim" && d.citations.map((c) => c.evidence_id)).toEqual(["a", "c"]);
  });
});

describe("termWeights", () => {
  it("weighs rare terms above common ones, and unknown terms highest", () => {
    const w = termWeights(["rare", "common", "absent"], {
      chunks: 100,
      avg_chunk_len: 50,
      df: { rare: 1, common: 90 },
    });
    expect(w.get("rare")).toBeGreaterThan(w.get("common") as number);
    expect(w.get("absent")).toBeGreaterThan(w.get("rare") as number);
    expect(termWeights(["x"], undefined).get("x")).toBe(1);
  });
});
