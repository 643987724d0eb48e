/**
 * Live and frozen dispatch are two backends of one interface: the same cases run against
 * both, and both must give the same trace bytes (docs/design.md §6). Frozen replay proves the planner,
 * executor, reasoner and serialization deterministic; live proves retrieval is too.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { traceFile } from "../../../src/core/artifact/files.js";
import { parseCorpusRef } from "../../../src/core/corpus/corpus-ref.js";
import { ToolFailedError } from "../../../src/core/errors.js";
import type { ProblemSpec } from "../../../src/core/models/spec.js";
import type { Trace } from "../../../src/core/models/trace.js";
import { frozenDispatcher } from "../../../src/core/pipeline/dispatch.js";
import type { ToolDispatcher } from "../../../src/core/pipeline/executor.js";
import { liveTools, type RetrievalBackend, traceRun } from "../../../src/core/pipeline/produce.js";
import { resolveParams } from "../../../src/core/plan/planner.js";
import { extractiveReasoner } from "../../../src/core/reason/extractive.js";
import { firstDivergence } from "../../../src/core/replay/divergence.js";
import { pickIndexParams } from "../../../src/core/retrieval/index-params.js";
import { prepareRetrieval } from "../../../src/io/index-cache/index-cache.js";
import { DiskStore } from "../../../src/io/store/content-store.js";
import { PRODUCER } from "../../../src/version.js";
import { SMALL_CORPUS } from "../../helpers/produce.js";
import { tempDir, writeFiles } from "../../helpers/tmp.js";

const CASES = {
  answered: "How is a trick won in contract bridge?",
  insufficient: "Who is the one that was there?",
  "no retrieval": "What is the way of tea?",
};

let backend: RetrievalBackend;
let snapshot: string;

beforeAll(async () => {
  const corpus = tempDir();
  writeFiles(corpus, SMALL_CORPUS);
  const spec: ProblemSpec = { version: "1", description: "", constraints: { corpus } };
  const prepared = await prepareRetrieval(
    new DiskStore(tempDir()),
    parseCorpusRef(corpus),
    pickIndexParams(resolveParams(spec, "default")),
  );
  backend = prepared.backend;
  snapshot = prepared.snapshotHash;
});

function specFor(name: string, question: string): ProblemSpec {
  return name === "no retrieval"
    ? { version: "1", description: question, constraints: {} }
    : { version: "1", description: question, constraints: { corpus: `sha256:${snapshot}` } };
}

function trace(spec: ProblemSpec, dispatcher: ToolDispatcher, partial = false): Trace {
  const retrieval = spec.constraints.corpus !== undefined;
  return traceRun(spec, {
    preset: "default",
    seed: 0,
    producer: PRODUCER,
    reasoner: extractiveReasoner,
    provenance: retrieval ? backend.provenance : null,
    dispatcher,
    partialOnToolFailure: partial,
  }).trace;
}

const DISPATCHERS: Record<string, (recorded: Trace, spec: ProblemSpec) => ToolDispatcher> = {
  live: (_recorded, spec) => liveTools(spec.constraints.corpus === undefined ? null : backend),
  frozen: (recorded) => frozenDispatcher(recorded),
};

describe.each(Object.keys(DISPATCHERS))("%s dispatch", (mode) => {
  it.each(Object.entries(CASES))("reproduces a fresh %s run byte for byte", (name, question) => {
    const spec = specFor(name, question);
    const recorded = trace(spec, liveTools(spec.constraints.corpus === undefined ? null : backend));
    const replayed = trace(
      spec,
      (DISPATCHERS[mode] as (r: Trace, s: ProblemSpec) => ToolDispatcher)(recorded, spec),
    );
    const [a, b] = [recorded, replayed].map((t) => Buffer.from(traceFile(t)).toString("utf8"));
    expect(firstDivergence(a as string, b as string)).toBeNull();
    expect(b).toBe(a);
  });
});

describe("frozen dispatch of a result that no longer fits its call", () => {
  const question = CASES.answered;
  const recordedWithout = (): Trace => {
    const recorded = trace(specFor("answered", question), liveTools(backend));
    // Drop the recorded results: the replayed call finds nothing to be served.
    return { ...recorded, events: recorded.events.filter((e) => e.type !== "tool_returned") };
  };

  it("stops the run with an error naming the step and tool, by default", () => {
    expect(() => trace(specFor("answered", question), frozenDispatcher(recordedWithout()))).toThrow(
      ToolFailedError,
    );
  });

  it("returns the events up to the failure when replay asks for them, so the divergence can be named", () => {
    const recorded = trace(specFor("answered", question), liveTools(backend));
    const partial = trace(specFor("answered", question), frozenDispatcher(recordedWithout()), true);
    expect(partial.events.at(-1)).toMatchObject({ type: "tool_returned", result: { ok: false } });
    const d = firstDivergence(
      Buffer.from(traceFile(recorded)).toString("utf8"),
      Buffer.from(traceFile(partial)).toString("utf8"),
    );
    expect(d).toMatchObject({ kind: "tool_returned", field: "result.error", before: null });
    expect(d?.after).toMatch(/^no recorded result for call call_v1_/);
  });
});
