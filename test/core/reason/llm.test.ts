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
  endpointProblem,
  failedModelAnswer,
  llmReasoner,
  needsModelCall,
  PROMPT_BUDGET,
  promptOf,
  recordingMismatch,
  responseModeOf,
} from "../../../src/core/reason/llm.js";
import type { Derivation, ReasonerInput } from "../../../src/core/reason/reasoner.js";
import { findReasoner } from "../../../src/core/reason/reasoners.js";
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
      'claim 1, quote 2: "the lowest card always wins" is not found in evidence [1]',
    ]);
  });

  it("issue 21 item 17: a quote differing only in whitespace runs is matched; the exact source bytes are cited", () => {
    const text = "In bridge,  a trick\nis won by the\t highest card.";
    const input = baseInput({
      evidence: [
        { id: `ev_v1_${"0".repeat(64)}`, docId: "d.md", span: [10, 10 + text.length], rank: 1, text },
      ],
    });
    for (const quote of ["a trick is won by the highest card", " a  trick is\nwon by the highest card "]) {
      const d = claimOf(derive(answer(["Highest.", [[1, quote]]]), { input }));
      const c = d.citations[0];
      const source = "a trick\nis won by the\t highest card";
      expect(Buffer.from(text).subarray(c?.span[0], c?.span[1]).toString("utf8")).toBe(source);
      expect(c?.sha256).toBe(sha256Hex(Buffer.from(source)));
    }
    // Whitespace only bridges whitespace: other differences are still not found.
    const d = derive(answer(["X.", [[1, "a trick is won by the lowest card"]]]), { input });
    expect(reasonOf(d)).toMatch(
      /is not found in evidence \[1\]; claim 1: 0 distinct source span\(s\) quoted, 1 required$/,
    );
    expect(d.modelCall?.path).toMatch(/^model\/[0-9a-f]{64}\.json$/);
  });

  it("issue 21 item 13: supports count by distinct source span, not by evidence item", () => {
    // Two overlapping passages of one document hold the same sentence.
    const doc = "Intro. A trick is won by the highest card. Outro.";
    const a = doc.slice(0, 42);
    const b = doc.slice(7);
    const input = baseInput({
      minSupports: 2,
      evidence: [
        { id: `ev_v1_${"a".repeat(64)}`, docId: "d.md", span: [0, 42], rank: 1, text: a },
        { id: `ev_v1_${"b".repeat(64)}`, docId: "d.md", span: [7, doc.length], rank: 2, text: b },
      ],
    });
    const same = answer([
      "Highest card.",
      [
        [1, "A trick is won by the highest card."],
        [2, "A trick is won by the highest card."],
      ],
    ]);
    expect(reasonOf(derive(same, { input }))).toMatch(
      /quote 2: quotes source bytes an earlier quote of the claim already cites; claim 1: 1 distinct source span\(s\) quoted, 2 required/,
    );
    // Two different sentences of one passage are two supports.
    const two = answer([
      "Highest card.",
      [
        [1, "Intro."],
        [1, "A trick is won"],
      ],
    ]);
    expect(claimOf(derive(two, { input })).citations).toHaveLength(2);
  });

  it("a claim needs min_supports_per_claim distinct source spans", () => {
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
        [1, "highest card of the suit"],
      ],
    ]);
    expect(claimOf(derive(both, { input: baseInput({ minSupports: 2 }) })).citations).toHaveLength(2);
    // Overlapping quotes of the same bytes are one support.
    expect(reasonOf(derive(one, { input: baseInput({ minSupports: 2 }) }))).toMatch(
      /claim 1: 1 distinct source span\(s\) quoted, 2 required/,
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
      "the endpoint answered with a body that is not JSON",
    );
    const refusal = JSON.stringify({
      choices: [{ finish_reason: "stop", message: { content: null, refusal: "I can't help with that." } }],
    });
    expect(reasonOf(derive("", { body: refusal }))).toBe('the model refused: "I can\'t help with that."');
  });
});

describe("llm reasoner 2: issue 21 items 11, 14, 15, 16", () => {
  it("item 15: <think> reasoning blocks (with braces) are removed before the JSON is read, and the claim says so", () => {
    const body = answer(["Trump.", [[2, "a trump wins the trick"]]]);
    for (const tag of ["think", "thinking", "reasoning", "THINK"]) {
      const d = claimOf(derive(`<${tag}>Maybe {"claims": []} or {x}?</${tag}>\n${body}`));
      expect(d.statement).toBe("Trump.");
      expect(d.structured.reasoning_removed).toBe(true);
    }
    expect(claimOf(derive(body)).structured.reasoning_removed).toBe(false);
    expect(reasonOf(derive("<think>{only thoughts}</think> no answer"))).toBe(
      "the model's answer is not JSON (after its reasoning blocks were removed)",
    );
  });

  it("item 11: each passage and the whole prompt are bounded by PROMPT_BUDGET; the claim records the budget", () => {
    const { passageChars, promptChars } = PROMPT_BUDGET;
    // A document without sentence punctuation: one passage of 300 KB.
    const huge = `${"word ".repeat(60_000)}the highest card wins`;
    const many = Array.from({ length: 20 }, (_, i) => ({
      id: `ev_v1_${String(i % 10).repeat(64)}`,
      docId: `d${i}.md`,
      span: [0, huge.length] as [number, number],
      rank: i + 1,
      text: i === 0 ? `the highest card wins ${huge}` : huge,
    }));
    const input = baseInput({ evidence: many });
    const prompt = promptOf(input);
    expect(prompt.text.length).toBeLessThanOrEqual(promptChars);
    expect(prompt.cut).toBeGreaterThan(0);
    expect(prompt.leftOut).toBeGreaterThan(0);
    expect(prompt.text).toContain(`[passage cut at ${passageChars} characters]`);
    expect(prompt.text).toContain(
      `more passage(s) left out: the prompt is limited to ${promptChars} characters]`,
    );
    const user = (chatRequest(input).messages as Array<{ content: string }>)[1]?.content ?? "";
    expect(user).toBe(prompt.text);
    const d = claimOf(derive(answer(["Highest.", [[1, "the highest card wins"]]]), { input }));
    expect(d.structured.prompt_budget).toBe(`${passageChars} characters per passage, ${promptChars} in all`);
    expect(d.structured.passages_cut).toBe(prompt.cut);
    expect(d.structured.passages_left_out).toBe(prompt.leftOut);
    // A surrogate pair at the cut is never split.
    const emoji = baseInput({
      evidence: [{ ...many[0], text: `${"a".repeat(passageChars - 1)}😀tail` } as (typeof many)[0]],
    });
    expect(promptOf(emoji).text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    // Under the budget the request is what it always was: nothing cut, nothing left out.
    expect(promptOf(baseInput())).toMatchObject({ cut: 0, leftOut: 0 });
  });

  it("item 16: a recording made without response_format stands for the input; the claim records the mode", () => {
    const input = baseInput();
    const request = chatRequest(input, "prompt");
    expect(request).not.toHaveProperty("response_format");
    expect(responseModeOf(request)).toBe("prompt");
    expect(responseModeOf(chatRequest(input))).toBe("json_schema");
    const recording = {
      version: "1" as const,
      endpoint: "e",
      request,
      response: { status: 200, body: completionBody(answer(["Trump.", [[2, "a trump wins the trick"]]])) },
    };
    const call = { ref: modelCallFile(recording).ref, recording };
    const llm = { ...(input.llm as NonNullable<ReasonerInput["llm"]>), call };
    expect(recordingMismatch({ ...input, llm })).toBeNull();
    expect(claimOf(deriveFromRecording({ ...input, llm })).structured.response_format).toBe("prompt");
    expect(
      claimOf(derive(answer(["Trump.", [[2, "a trump wins the trick"]]]))).structured.response_format,
    ).toBe("json_schema");
  });

  /** Item 14: every kind of 2xx body that is not a readable chat completion, each an endpoint problem. */
  const MISBEHAVING_BODIES: Array<[string, string, RegExp]> = [
    [
      "an error object",
      '{"error":{"message":"context length exceeded","code":400}}',
      /error object: "context length exceeded"/,
    ],
    ["an error string", '{"error":"overloaded"}', /error object: "overloaded"/],
    ["an SSE stream", 'data: {"choices":[{"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n', /event stream/],
    ["an SSE comment", ": keep-alive\n\ndata: {}\n\n", /event stream/],
    ["an SSE event line", "event: message\ndata: {}\n\n", /event stream/],
    [
      "content as a list of parts",
      '{"choices":[{"finish_reason":"stop","message":{"content":[{"type":"text","text":"{}"}]}}]}',
      /list of parts/,
    ],
    ["HTML", "<html>bad gateway</html>", /not JSON/],
    ["an empty body", "", /not JSON/],
    ["JSON that is not a completion", '{"object":"list","data":[]}', /not a chat completion/],
    ["no choices", '{"choices":[]}', /not a chat completion/],
    ["a JSON array", "[1,2]", /not a chat completion/],
    ["null", "null", /not a chat completion/],
  ];
  for (const [name, body, message] of MISBEHAVING_BODIES)
    it(`item 14: ${name} is an endpoint problem, and a failed model answer`, () => {
      expect(endpointProblem(body)).toMatch(message);
      const recording = {
        version: "1" as const,
        endpoint: "e",
        request: {},
        response: { status: 200, body },
      };
      expect(failedModelAnswer(recording)).toMatch(message);
    });

  it("item 14: a readable answer, with or without a grounded claim, is not a failed model answer", () => {
    const ok = (content: string) => ({
      version: "1" as const,
      endpoint: "e",
      request: {},
      response: { status: 200, body: completionBody(content) },
    });
    expect(endpointProblem(completionBody("x"))).toBeNull();
    expect(failedModelAnswer(ok(answer()))).toBeNull();
    expect(failedModelAnswer(ok(answer(["X.", [[1, "nowhere"]]])))).toBeNull();
    expect(failedModelAnswer(ok("prose, no JSON"))).toBe("the model's answer is not JSON");
    expect(failedModelAnswer(ok(""))).toBe("the model returned an empty answer");
  });

  it("version 1 stays registered for the runs it made; new runs are version 2", () => {
    expect(findReasoner({ id: "llm", version: "1" })?.version).toBe("1");
    expect(findReasoner({ id: "llm", version: "2" })).toBe(llmReasoner);
  });
});
