/**
 * Replay (docs/design.md §6). Frozen: re-execute planner, executor and reasoner with tool results served
 * from the recorded trace; the trace must come out byte for byte. Live: re-run retrieval
 * against the pinned corpus snapshot with the recorded parameters. Nothing is written: the
 * replayed run exists only in memory, to be compared.
 */

import { RUN_FILES, traceFile } from "../../core/artifact/files.js";
import { retrieveToolOf, toolProvenance } from "../../core/artifact/names.js";
import { sha256Hex } from "../../core/canonical.js";
import { snapshotRef } from "../../core/corpus/corpus-ref.js";
import { CanonError, InputError } from "../../core/errors.js";
import type { ModelCall, ModelCallRef } from "../../core/models/model-call.js";
import type { RetrievalProvenance, Trace } from "../../core/models/trace.js";
import { frozenDispatcher } from "../../core/pipeline/dispatch.js";
import { liveTools, llmInputOf, traceRun } from "../../core/pipeline/produce.js";
import { LLM_REASONER_ID } from "../../core/reason/llm.js";
import { findReasoner, knownReasoners } from "../../core/reason/reasoners.js";
import { type Divergence, firstDivergence } from "../../core/replay/divergence.js";
import { loadIndex } from "../../core/retrieval/bm25/bm25-format.js";
import { indexParamsFromProvenance } from "../../core/retrieval/index-params.js";
import { prepareRetrieval } from "../../io/index-cache/index-cache.js";
import { type OpenedRun, openRun, requireParts } from "../../io/runs/run-reader.js";
import { DiskStore } from "../../io/store/content-store.js";
import { type ModelCallOptions, modelCallFor } from "../run/model-call.js";

export interface ReplayResult {
  mode: "frozen" | "live";
  identical: boolean;
  recorded_sha256: string;
  replayed_sha256: string;
  divergence: Divergence | null;
}

export async function replayRun(
  opened: OpenedRun,
  storeRoot: string,
  mode: "frozen" | "live",
  model: ModelCallOptions = {},
): Promise<ReplayResult> {
  const { runDir } = opened;
  const { spec, run, trace: recorded } = requireParts(opened, ["spec", "run", "trace"]);
  const recordedBytes = opened.files.get(RUN_FILES.trace) ?? new Uint8Array();
  const { runtime } = run.inputs;
  const reasoner = findReasoner(runtime.reasoner);
  if (reasoner === null) {
    throw new InputError(
      "E_USAGE",
      `the run was reasoned by ${runtime.reasoner.id} ${runtime.reasoner.version}; this build has ${knownReasoners()}, so it cannot replay the run: \`canon-reason diff\` it against a run made by this build`,
      { file: runDir },
    );
  }
  const tool = retrieveToolOf(runtime);
  const provenance = tool === undefined ? null : toolProvenance(tool);
  if (tool !== undefined && provenance === null) {
    throw new InputError(
      "E_NOT_A_RUN",
      "run.json's retrieve tool config is unreadable: run `canon-reason verify`",
      { file: runDir },
    );
  }
  // Frozen replay serves results from the trace, but the run still claims a snapshot and an
  // index: both must be in the store and intact, or the replay proves nothing about them.
  if (provenance !== null) checkPinnedObjects(new DiskStore(storeRoot), provenance);
  let dispatcher = frozenDispatcher(recorded);
  if (mode === "live" && provenance !== null) {
    const prepared = await prepareRetrieval(
      new DiskStore(storeRoot),
      snapshotRef(provenance.corpus_snapshot),
      indexParamsFromProvenance(provenance),
      provenance.limits,
      undefined,
      // An index of an older format cannot be rebuilt byte for byte: search the pinned one.
      { pinnedIndex: provenance.index_hash },
    );
    // Re-run the tool as the run's version ran it: retrieve 1 returned bare chunks.
    const { evidence: _current, ...built } = prepared.backend.provenance;
    const asRecorded =
      provenance.evidence === undefined ? built : { ...built, evidence: provenance.evidence };
    dispatcher = liveTools({ ...prepared.backend, provenance: asRecorded });
  }
  const common = {
    preset: run.inputs.preset,
    seed: run.inputs.seed,
    producer: run.inputs.producer,
    provenance,
  };
  let modelCall: ModelCall | undefined;
  if (reasoner.id === LLM_REASONER_ID) {
    const looked = llmInputOf(spec, { ...common, dispatcher });
    dispatcher = looked.dispatcher;
    if (mode === "live") {
      // Live replay asks the model again, at the endpoint the run records (credentials are never recorded).
      const baseUrl = spec.constraints.base_url;
      if (baseUrl === undefined)
        throw new InputError("E_NOT_A_RUN", "the run's spec names no base_url for its model", {
          file: runDir,
        });
      modelCall = await modelCallFor(looked.input, baseUrl, model);
    } else {
      modelCall = recordedModelCall(opened, recorded);
      const ref = recordedRef(recorded);
      const llm = looked.input.llm;
      if (llm !== undefined) {
        const call =
          modelCall === undefined || ref === undefined ? {} : { call: { ref, recording: modelCall } };
        const mismatch = reasoner.recordingMismatch?.({ ...looked.input, llm: { ...llm, ...call } }) ?? null;
        if (mismatch !== null)
          throw new CanonError(
            "E_MODEL_CALL",
            `frozen replay cannot re-derive the model's answer: ${mismatch}`,
            {
              exitCode: 1,
              where: { file: runDir },
            },
          );
      }
    }
  }
  const replayed = traceRun(spec, {
    ...common,
    reasoner,
    dispatcher,
    ...(modelCall === undefined ? {} : { modelCall }),
    // A recorded result that no longer fits its call is a divergence to show, not bad input.
    partialOnToolFailure: true,
  });
  const replayedBytes = traceFile(replayed.trace);
  const before = Buffer.from(recordedBytes).toString("utf8");
  const after = Buffer.from(replayedBytes).toString("utf8");
  const divergence = firstDivergence(before, after);
  return {
    mode,
    identical: divergence === null,
    recorded_sha256: sha256Hex(recordedBytes),
    replayed_sha256: sha256Hex(replayedBytes),
    divergence,
  };
}

/** The model call the recorded derive step names, if any. */
function recordedRef(trace: Trace): ModelCallRef | undefined {
  for (const e of trace.events)
    if (
      e.type === "step_finished" &&
      (e.output.type === "derive" || e.output.type === "insufficient_evidence")
    )
      return e.output.model_call;
  return undefined;
}

/**
 * The recording a frozen replay derives from: it must be in the run and hash to what the trace
 * records, or the replay fails closed (exit 1) naming the call.
 */
function recordedModelCall(opened: OpenedRun, trace: Trace): ModelCall | undefined {
  const ref = recordedRef(trace);
  if (ref === undefined) return undefined;
  const fail = (why: string) =>
    new CanonError(
      "E_MODEL_CALL",
      `the recorded model call ${ref.path} of the derive step ${why}: frozen replay needs it and does not call the model`,
      { exitCode: 1, where: { file: opened.runDir } },
    );
  const bytes = opened.files.get(ref.path);
  if (bytes === undefined) throw fail("is missing");
  if (sha256Hex(bytes) !== ref.sha256) throw fail("does not hash to the sha256 the trace records (altered)");
  // The run reader parsed it (view.modelCalls holds only recordings that parse).
  const recording = opened.view.modelCalls.get(ref.path);
  if (recording === undefined) throw fail("is not a model call recording");
  return recording;
}

/**
 * Replays the run in `runDir`; `storeRoot` is the artifacts root whose store holds its snapshot.
 * Async throughout: a directory that cannot be read rejects the promise, as every other failure does.
 */
export async function replayRunDirectory(
  runDir: string,
  storeRoot: string,
  mode: "frozen" | "live",
): Promise<ReplayResult> {
  return replayRun(openRun(runDir), storeRoot, mode);
}

/** The pinned snapshot and index exist, re-hash, and the index parses: else exit 1 naming the object. */
function checkPinnedObjects(store: DiskStore, provenance: RetrievalProvenance): void {
  for (const [what, hash] of [
    ["corpus snapshot", provenance.corpus_snapshot],
    ["index", provenance.index_hash],
  ] as const) {
    const bytes = store.get(hash); // throws IntegrityError (exit 1) when the bytes hash differently
    if (bytes === null)
      throw new CanonError(
        "E_STORE_MISSING",
        `the run's ${what} sha256:${hash} is not in the store at ${store.root}: import the run's bundle there, or replay where the run was made`,
        { exitCode: 1 },
      );
    if (what === "index") loadIndex(bytes); // a corrupt index is E_INDEX_CORRUPT
  }
}
