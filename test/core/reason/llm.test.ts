/**
 * The llm reasoner's pure part: the request it makes from the question and the evidence, and
 * the answer it derives from a recorded response. Every quote is searched verbatim in the exact
 * evidence text and cited as a byte span; anything else is dropped with its reason.
 */
import { describe, expect, it } from "vitest";
import { modelCallFile } from "../../../src/core/artifact/files.js";
import { sha256Hex } from "../../../src/core/canonical.js";
import {
  answerJson,
  chatRequest,
  deriveFromRecording,
  needsModelCall,
  recordingMismatch,
} from "../../../src/core/reason/llm.js";
import type { Derivation, ReasonerInput } from "../../../src/core/reason/reasoner.js";
import { completionBody } from "../verify/checks/fixture.js";

const EVIDENCE = [
  "In bridge, a trick is won by the highest card of the suit that was led.",
  "Café au lait — a trump wins the trick. The declarer plays both hands.",
];

function baseInput(overrides: Partial<ReasonerInput> = {}): ReasonerInput {
  return {
    question: "How is a trick won?",
    queryTerms: ["trick", "won"],
    evidence: EVIDENCE.map((text, i) => ({
      id: `ev_v1_${String(i).repeat(64)}`,
      docId: `doc${i + 1}.md`,
      span: [0, Buffer.byteLength(text)] as [number, number],
      rank: i + 1,
      text,
    })),
    minSupports: 1,
    maxCitations: 3,
    llm: { model: "m", baseUrl: "http://127.0.0.1:9/v1", temperature: 0, seed: 7 },
    ...overrides,
  };
}

/** Derives from a response whose message content is `content` (or a raw response body). */
function derive(
  content: string,
  o: { input?: ReasonerInput; finish?: string; body?: string } = {},
): Derivation {
  const input = o.input ?? baseInput();
  const recording = {
    version: "1" as const,
    endpoint: "http://127.0.0.1:9/v1/chat/completions",
    request: chatRequest(input),
    response: { status: 200, body: o.body ?? completionBody(content, o.finish) },
  };
  const call = { ref: modelCallFile(recording).ref, recording };
  return deriveFromRecording({
    ...input,
    llm: { ...(input.llm as NonNullable<ReasonerInput["llm"]>), call },
  });
}

const answer = (...claims: Array<[string, Array<[number, string]>]>) =>
  JSON.stringify({
    claims: claims.map(([statement, cites]) => ({
      statement,
      citations: cites.map(([evidence, quote]) => ({ evidence, quote })),
    })),
  });

const claimOf = (d: Derivation) => {
  if (d.kind !== "claim") throw new Error(`expected a claim, got: ${d.reason}`);
  return d;
};
const reasonOf = (d: Derivation) => {
  if (d.kind !== "insufficient") throw new Error("expected insufficient evidence");
  return d.reason;
};

describe("llm reasoner: request", () => {
  it("numbers the evidence from 1 in rank order and records model, temperature and seed", () => {
    const request = chatRequest(baseInput());
    expect(request).toMatchObject({ model: "m", temperature: 0, seed: 7 });
    const user = (request.messages as Array<{ content: string }>)[1]?.content ?? "";
    expect(user).toContain(`[1] doc1.md\n${EVIDENCE[0]}`);
    expect(user).toContain(`[2] doc2.md\n${EVIDENCE[1]}`);
    expect(user.startsWith("Question: How is a trick won?")).toBe(true);
    expect(request.response_format).toMatchObject({ type: "json_schema" });
  });

  it("asks no model without enough evidence, and says so", () => {
    const none = baseInput({ evidence: [] });
    expect(needsModelCall(none)).toBe(false);
    expect(needsModelCall(baseInput({ minSupports: 3 }))).toBe(false);
    const d = deriveFromRecording(none);
    expect(reasonOf(d)).toMatch(/0 piece\(s\) of evidence, 1 required: the model was not asked/);
    expect(d.modelCall).toBeUndefined();
  });

  it("refuses a recording of another question", () => {
    const input = baseInput();
    const recording = {
      version: "1" as const,
      endpoint: "e",
      request: chatRequest({ ...input, question: "Something else?" }),
      response: { status: 200, body: "{}" },
    };
    const call = { ref: modelCallFile(recording).ref, recording };
    const llm = { ...(input.llm as NonNullable<ReasonerInput["llm"]>), call };
    expect(recordingMismatch({ ...input, llm })).toMatch(/holds a request other than/);
    expect(() => deriveFromRecording({ ...input, llm })).toThrow(/holds a request other than/);
  });
});

describe("llm reasoner: deriving from the recorded answer", () => {
  it("a good answer: quotes become byte spans with the sha256 of exactly those bytes", () => {
    const quote = "a trump wins the trick";
    const d = claimOf(derive(answer(["A trump wins.", [[2, quote]]])));
    expect(d.statement).toBe("A trump wins.");
    const c = d.citations[0];
    const bytes = Buffer.from(EVIDENCE[1] as string, "utf8");
    // "Café au lait — " holds multi-byte characters: the span is in bytes, not characters.
    expect(bytes.subarray(c?.span[0], c?.span[1]).toString("utf8")).toBe(quote);
    expect(c?.sha256).toBe(sha256Hex(Buffer.from(quote)));
    expect(c?.evidence_id).toBe(`ev_v1_${"1".repeat(64)}`);
    expect(d.confidence).toBe(1);
    expect(d.structured.rejected).toEqual([]);
  });

  it("an invented quote is dropped with its reason; the claim stands on the quote that is real", () => {
    const d = claimOf(
      derive(
        answer([
          "The highest card wins.",
          [
            [1, "the highest card of the suit that was led"],
            [1, "the lowest card always wins"],
          ],
        ]),
      ),
    );
    expect(d.citations).toHaveLength(1);
    expect(d.confidence).toBe(0.5);
    expect(d.structured.rejected).toEqual([
      'claim 1, quote 2: "the lowest card always wins" is not found verbatim in evidence [1]',
    ]);
  });

  it("a quote with changed whitespace is not verbatim: dropped, and with no claim left, insufficient", () => {
    const d = derive(answer(["The highest card wins.", [[1, "the highest  card of the suit"]]]));
    expect(reasonOf(d)).toMatch(
      /^no claim of the model is grounded: claim 1, quote 1: "the highest {2}card of the suit" is not found verbatim in evidence \[1\]; claim 1: 0 piece\(s\) of evidence quoted verbatim, 1 required$/,
    );
    expect(d.modelCall?.path).toMatch(/^model\/[0-9a-f]{64}\.json$/);
  });

  it("a claim needs min_supports_per_claim distinct pieces of evidence", () => {
    const both = answer([
      "Highest card or trump.",
      [
        [1, "the highest card"],
        [2, "a trump wins the trick"],
      ],
    ]);
    const one = answer([
      "Highest card.",
      [
        [1, "the highest card"],
        [1, "the suit that was led"],
      ],
    ]);
    expect(claimOf(derive(both, { input: baseInput({ minSupports: 2 }) })).citations).toHaveLength(2);
    expect(reasonOf(derive(one, { input: baseInput({ minSupports: 2 }) }))).toMatch(
      /claim 1: 1 piece\(s\) of evidence quoted verbatim, 2 required/,
    );
  });

  it("claims are kept in order within max_citations and joined into one statement", () => {
    const d = claimOf(
      derive(
        answer(
          ["First.", [[1, "a trick is won"]]],
          ["Second.", [[2, "a trump wins"]]],
          ["Third.", [[2, "declarer"]]],
        ),
        { input: baseInput({ maxCitations: 2 }) },
      ),
    );
    expect(d.statement).toBe("First. Second.");
    expect(d.structured.claims).toEqual(["First.", "Second."]);
    expect(d.structured.rejected).toEqual(["claim 3: no room left under max_citations 2"]);
  });

  it("evidence numbers outside the list, empty quotes and empty statements are rejected", () => {
    const d = derive(
      answer(
        [
          "X.",
          [
            [3, "a trick"],
            [0, "a trick"],
            [1, ""],
          ],
        ],
        ["", [[1, "a trick"]]],
      ),
    );
    expect(reasonOf(d)).toContain("claim 1, quote 1: there is no evidence [3]");
    expect(reasonOf(d)).toContain("claim 1, quote 2: there is no evidence [0]");
    expect(reasonOf(d)).toContain("claim 1, quote 3: the quote is empty");
    expect(reasonOf(d)).toContain("claim 2: the statement is empty");
  });

  it("JSON inside a code fence or surrounded by prose is read", () => {
    const body = answer(["Trump.", [[2, "a trump wins the trick"]]]);
    expect(claimOf(derive(`\`\`\`json\n${body}\n\`\`\``)).statement).toBe("Trump.");
    expect(claimOf(derive(`Here is the answer:\n${body}\nHope it helps.`)).statement).toBe("Trump.");
    expect(answerJson('```\n{"claims": []}\n```')).toEqual({ claims: [] });
  });

  it("each unusable answer is insufficient evidence with the reason", () => {
    expect(reasonOf(derive('{"claims": [{"statement": "x", "cit'))).toBe("the model's answer is not JSON");
    expect(reasonOf(derive(answer(["X.", [[1, "a trick"]]]), { finish: "length" }))).toMatch(/cut off/);
    expect(reasonOf(derive("", { finish: "content_filter" }))).toMatch(/content filter/);
    expect(reasonOf(derive("   "))).toBe("the model returned an empty answer");
    expect(reasonOf(derive('{"answer": "yes"}'))).toBe('the model\'s answer has no "claims" array');
    expect(reasonOf(derive(answer()))).toBe("the model found no answer in the evidence");
    expect(reasonOf(derive('{"claims": [{"statement": 3}]}'))).toMatch(
      /claim 1: does not follow the contract/,
    );
    expect(reasonOf(derive("", { body: "<html>bad gateway</html>" }))).toBe(
      "the endpoint's response is not a chat completion",
    );
    const refusal = JSON.stringify({
      choices: [{ finish_reason: "stop", message: { content: null, refusal: "I can't help with that." } }],
    });
    expect(reasonOf(derive("", { body: refusal }))).toBe('the model refused: "I can\'t help with that."');
  });
});
