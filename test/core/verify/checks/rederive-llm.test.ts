/**
 * rederive (INV-RDV-001) for the llm reasoner: the answer is re-derived from the recorded model
 * call, which must be in the run, hash to what the trace records, and hold the request this
 * question and evidence make. Each finding code from one targeted edit of an llm run.
 */
import { describe, expect, it } from "vitest";
import { modelCallFile, RUN_FILES, traceFile } from "../../../../src/core/artifact/files.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import type { ModelCall } from "../../../../src/core/models/model-call.js";
import type { ReasonerInput } from "../../../../src/core/reason/reasoner.js";
import { rederiveCheck } from "../../../../src/core/verify/checks/rederive.js";
import { verifyRun } from "../../../../src/core/verify/verifier.js";
import {
  codes,
  completionBody,
  llmRun,
  outputOf,
  paramsOf,
  reread,
  sealing,
  traceOf,
  withFiles,
} from "./fixture.js";

/** The model's answer: one claim quoting the bridge rule verbatim from the evidence that holds it. */
function goodAnswer(input: ReasonerInput): string {
  const n = input.evidence.findIndex((e) => e.text.includes("a trick is won by the highest card")) + 1;
  return JSON.stringify({
    claims: [
      {
        statement: "The highest card of the suit led wins the trick, unless a trump is played.",
        citations: [{ evidence: n, quote: "a trick is won by the highest card of the suit that was led" }],
      },
    ],
  });
}

const run = llmRun(goodAnswer);
const check = (view: RunView = run.view) => rederiveCheck.run(view, sealing(run.store));
const ref = outputOf(traceOf(run), "derive").model_call as { path: string; sha256: string };

/** The run with its recording replaced by another one, and the trace pointing at it. */
function withRecording(recording: ModelCall): RunView {
  const file = modelCallFile(recording);
  const trace = traceOf(run);
  for (const e of trace.events)
    if (e.type === "step_finished" && e.output.type === "derive") e.output.model_call = file.ref;
  return reread(
    withFiles(run.files, {
      [ref.path]: null,
      [file.ref.path]: file.bytes,
      [RUN_FILES.trace]: traceFile(trace),
    }),
  );
}

describe("rederive, llm reasoner", () => {
  it("passes the untouched run, which cites the quoted bytes and records its call", () => {
    expect(codes(check())).toEqual([]);
    expect(verifyRun({ files: run.files, store: run.store, policy: "audit", stage: "sealed" }).verdict).toBe(
      "pass",
    );
    expect(run.files.has(ref.path)).toBe(true);
    expect(outputOf(traceOf(run), "derive").statement).toBe(
      "The highest card of the suit led wins the trick, unless a trump is played.",
    );
  });

  it("MODEL_CALL_MISSING: the recording was removed (fail closed)", () => {
    const outcome = check(reread(withFiles(run.files, { [ref.path]: null })));
    expect(codes(outcome)).toEqual(["MODEL_CALL_MISSING"]);
    expect(paramsOf(outcome, "MODEL_CALL_MISSING")).toEqual({ path: ref.path });
  });

  it("MODEL_CALL_ALTERED: the recording's bytes changed", () => {
    const bytes = Buffer.from(run.files.get(ref.path) as Uint8Array)
      .toString("utf8")
      .replace("test-model", "best-model");
    expect(codes(check(reread(withFiles(run.files, { [ref.path]: bytes }))))).toEqual(["MODEL_CALL_ALTERED"]);
  });

  it("MODEL_CALL_MISMATCH: a recording of another request, even with the trace pointing at it", () => {
    const request = structuredClone(run.modelCall.request);
    request.model = "another-model";
    const outcome = check(withRecording({ ...run.modelCall, request }));
    expect(codes(outcome)).toEqual(["MODEL_CALL_MISMATCH"]);
    expect(String(paramsOf(outcome, "MODEL_CALL_MISMATCH").detail)).toMatch(/holds a request other than/);
  });

  it("MODEL_ENDPOINT: issue 19, a recording made at another endpoint than the run's base URL", () => {
    const outcome = check(
      withRecording({ ...run.modelCall, endpoint: "http://elsewhere.example/v1/chat/completions" }),
    );
    expect(codes(outcome)).toEqual(["MODEL_ENDPOINT"]);
    expect(paramsOf(outcome, "MODEL_ENDPOINT")).toEqual({
      recorded: "http://elsewhere.example/v1/chat/completions",
      expected: "http://127.0.0.1:9/v1/chat/completions",
    });
  });

  it("REDERIVED_DIFFERS: the recorded response says something else than the trace", () => {
    const body = completionBody(JSON.stringify({ claims: [] }));
    const outcome = check(withRecording({ ...run.modelCall, response: { status: 200, body } }));
    expect(codes(outcome)).toEqual(["REDERIVED_DIFFERS"]);
  });

  it("MODEL_CALL_UNREFERENCED: a second recording nobody refers to", () => {
    const extra = modelCallFile({ ...run.modelCall, endpoint: "http://elsewhere/v1/chat/completions" });
    const outcome = check(reread(withFiles(run.files, { [extra.ref.path]: extra.bytes })));
    expect(codes(outcome)).toEqual(["MODEL_CALL_UNREFERENCED"]);
  });
});
