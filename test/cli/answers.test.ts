/**
 * The questions of issue 12 over the demo corpus: each answered with the sentence that holds
 * the answer (with the sentence it refers back to), and a question the corpus cannot answer
 * found insufficient, with the best candidate and its confidence shown.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_CORPUS, runCli } from "../helpers/cli.js";
import { demoRun, demoRunArgs } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

const artifacts = tempDir();
const run = (question: string, ...args: string[]) => demoRun({ question, root: artifacts, args }).json;

describe("answers that hold the answer, or say there is none", () => {
  it.each([
    ["Who invented the piano?", "Cristofori", "piano"],
    ["How long is the Great Barrier Reef?", "2,300", "Great Barrier Reef"],
    ["How many cards is each player dealt in contract bridge?", "13 cards", "Contract bridge"],
  ])("%s -> the sentence with %j, naming its subject", (question, answer, subject) => {
    const out = run(question);
    expect(out.status).toBe("answered");
    expect(out.answer).toContain(answer);
    expect(out.answer).toContain(subject);
    expect(out.verification.verdict).toBe("pass");
    // Whole sentences: the quote is the document's bytes and starts where a sentence starts.
    const [citation] = out.claims[0].citations;
    const doc = readFileSync(join(DEMO_CORPUS, citation.doc_id));
    expect(doc.subarray(citation.doc_span[0], citation.doc_span[1]).toString("utf8")).toBe(citation.quote);
    expect(citation.quote).toMatch(/^[A-Z]/);
    expect(citation.quote).toMatch(/[.!?]$/);
  });

  it("answers a question the corpus does not hold with insufficient evidence, showing why", () => {
    const out = run("Who won the 2018 FIFA World Cup final?");
    expect(out.status).toBe("insufficient_evidence");
    expect(out.claims).toEqual([]);
    expect(out.uncertainty).toMatch(/best candidate has confidence 0\.\d+, below min_confidence 0\.22/);
    expect(out.verification.verdict).toBe("pass");
  });

  it("--min-confidence moves the threshold, and is checked like any constraint", () => {
    const question = "Who won the 2018 FIFA World Cup final?";
    const out = run(question, "--min-confidence", "0.001");
    expect(out.status).toBe("answered");
    expect(out.claims[0].confidence).toBeLessThan(0.22);
    expect(out.verification.verdict).toBe("pass");
    const bad = runCli(demoRunArgs({ question, root: artifacts, args: ["--min-confidence", "2"] }));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/constraints\.min_confidence/);
  });

  // Issue 20 item 4: a one-word query never gets confidence 1; by default it is declined, saying why.
  it.each(["turnips", "memory"])("run %s: declined as a single term, never at confidence 1", (word) => {
    const out = run(word);
    expect(out.status).toBe("insufficient_evidence");
    expect(out.uncertainty).toMatch(/the question is a single term; a sentence containing it does not show/);
    const answered = run(word, "--min-confidence", "0.01");
    expect(answered.status).toBe("answered");
    expect(answered.claims[0].confidence).toBeLessThanOrEqual(0.25);
    expect(answered.verification.verdict).toBe("pass");
  });
});
