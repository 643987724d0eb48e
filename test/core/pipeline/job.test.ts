/**
 * The pure steps of a run job (src/core/pipeline/job.ts), without the disk: what a spec asks to
 * retrieve, how its corpus is pinned, and which endpoint the llm reasoner's question goes to.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/core/errors.js";
import type { ProblemSpec } from "../../../src/core/models/spec.js";
import { modelQuestion, pinCorpus, planJob, produceJob } from "../../../src/core/pipeline/job.js";
import type { RebuildRecords } from "../../../src/core/verify/pinned-index.js";

const HASH = "a".repeat(64);
const spec = (constraints: ProblemSpec["constraints"]): ProblemSpec => ({
  version: "1",
  description: "Why do otters hold hands?",
  constraints,
});
const settings = { seed: 0, producer: { name: "canon-reason", version: "0.0.0-test" } };

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("no error thrown");
}

describe("planJob", () => {
  it("asks for the spec's corpus with the index parameters of its resolved parameters", () => {
    const plan = planJob(spec({ corpus: "docs.jsonl", chunk_chars: 400 }), "default");
    expect(plan.params.llm).toBeNull();
    expect(plan.retrieval).toEqual({
      corpus: { kind: "path", path: "docs.jsonl" },
      params: {
        analyzer: "english",
        bm25_k1: 1.2,
        bm25_b: 0.75,
        chunk_chars: 400,
        overlap_chars: 200,
        index_titles: true,
      },
    });
  });

  it("needs no retrieval without a corpus, or with a pinned one it is told not to search", () => {
    expect(planJob(spec({ needs_retrieval: false }), "default").retrieval).toBeNull();
    expect(
      planJob(spec({ needs_retrieval: false, corpus: `sha256:${HASH}` }), "default").retrieval,
    ).toBeNull();
  });

  it("refuses a corpus path without retrieval, and retrieval without a corpus", () => {
    const given = inputError(() =>
      planJob(spec({ needs_retrieval: false, corpus: "docs.jsonl" }), "default"),
    );
    expect([given.code, given.where.field]).toEqual(["E_SPEC_INVALID", "constraints.needs_retrieval"]);
    const missing = inputError(() => planJob(spec({ needs_retrieval: true }), "default"));
    expect([missing.code, missing.where.field]).toEqual(["E_SPEC_INVALID", "constraints.corpus"]);
  });
});

describe("pinCorpus", () => {
  it("names the snapshot instead of the path, and leaves a spec without one as it is", () => {
    const s = spec({ corpus: "docs.jsonl", top_k: 3 });
    expect(pinCorpus(s, HASH).constraints).toEqual({ corpus: `sha256:${HASH}`, top_k: 3 });
    expect(pinCorpus(s, null)).toBe(s);
  });
});

describe("modelQuestion", () => {
  const llm = (base_url: string) =>
    planJob(spec({ needs_retrieval: false, reasoner: "llm", model: "m", base_url }), "default");

  it("is null for the extractive reasoner", () => {
    expect(modelQuestion(planJob(spec({ needs_retrieval: false }), "default"), null, settings)).toBeNull();
  });

  it("goes to the spec's base URL, credentials included, or to this worker's endpoint when the run names it", () => {
    const plan = llm("http://user:pw@model.test/v1");
    expect(modelQuestion(plan, null, settings)?.baseUrl).toBe("http://user:pw@model.test/v1");
    const mine = "http://worker:secret@model.test/v1";
    expect(modelQuestion(plan, null, { ...settings, endpoint: mine })?.baseUrl).toBe(mine);
  });

  it("refuses a run whose endpoint is not this worker's", () => {
    const error = inputError(() =>
      modelQuestion(llm("http://model.test/v1"), null, { ...settings, endpoint: "http://other.test/v1" }),
    );
    expect([error.code, error.where.field]).toEqual(["E_MODEL_ENDPOINT", "base_url"]);
  });
});

describe("produceJob", () => {
  const noRecords: RebuildRecords = {
    agreed: () => false,
    record: () => {},
  };
  const store = { get: () => null, has: () => false };

  it("records the base URL without its credentials, and may replace an earlier run when no call failed", () => {
    const plan = planJob(
      spec({ needs_retrieval: false, reasoner: "llm", model: "m", base_url: "http://user:pw@model.test/v1" }),
      "default",
    );
    const question = modelQuestion(plan, null, settings);
    const job = produceJob(plan, null, {
      ...settings,
      store,
      rebuilds: noRecords,
      asked: question === null ? undefined : { question, call: undefined },
    });
    const recorded = JSON.parse(Buffer.from(job.run.files.get("spec.json") as Uint8Array).toString("utf8"));
    expect(recorded.constraints.base_url).toBe("http://model.test/v1");
    expect(job.reasoner.id).toBe("llm");
    expect(job.replaceRefused).toBeNull();
  });
});
