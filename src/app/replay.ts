/**
 * Replay (SPEC §6). Frozen: re-execute planner, executor and reasoner with tool results served
 * from the recorded trace; the trace must come out byte for byte. Live: re-run retrieval
 * against the pinned corpus snapshot with the recorded parameters. Nothing is written: the
 * replayed run exists only in memory, to be compared.
 */
import { sha256Hex } from "../core/canonical.js";
import { InputError } from "../core/errors.js";
import { type RunRecord, RunRecord as RunRecordSchema } from "../core/models/run.js";
import { ProblemSpec } from "../core/models/spec.js";
import { RetrievalProvenance, type Trace, TraceEvent, TraceHeader } from "../core/models/trace.js";
import { frozenDispatcher } from "../core/pipeline/dispatch.js";
import { extractiveReasoner } from "../core/reason/extractive.js";
import type { Reasoner } from "../core/reason/reasoner.js";
import { type Divergence, firstDivergence } from "../core/replay/divergence.js";
import { RUN_FILES, traceFile } from "../core/run/files.js";
import { liveTools, traceRun } from "../core/run/produce.js";
import { prepareRetrieval } from "../io/retrieval-backend.js";
import { readRunDirectory } from "../io/run-reader.js";
import { DiskStore } from "../io/store.js";

export interface ReplayResult {
  mode: "frozen" | "live";
  identical: boolean;
  recorded_sha256: string;
  replayed_sha256: string;
  divergence: Divergence | null;
}

/** Reasoners this build can replay, by id; a run made by another reasoner version cannot be frozen-replayed. */
const REASONERS: Readonly<Record<string, Reasoner>> = { [extractiveReasoner.id]: extractiveReasoner };

function parseFile<T>(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  parse: (v: unknown) => T,
  runDir: string,
): T {
  const bytes = files.get(path);
  if (bytes === undefined) throw new InputError("E_NOT_A_RUN", `${path} is missing`, { file: runDir });
  try {
    return parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
  } catch (error) {
    throw new InputError(
      "E_NOT_A_RUN",
      `${path} is unreadable: run \`canon-reason verify\` to see why`,
      { file: runDir },
      error,
    );
  }
}

function parseTrace(bytes: Uint8Array, runDir: string): Trace {
  try {
    const [head, ...events] = Buffer.from(bytes).toString("utf8").trimEnd().split("\n");
    return {
      header: TraceHeader.parse(JSON.parse(head ?? "")),
      events: events.map((l) => TraceEvent.parse(JSON.parse(l))),
    };
  } catch (error) {
    throw new InputError(
      "E_NOT_A_RUN",
      "trace.jsonl is unreadable: run `canon-reason verify` to see why",
      { file: runDir },
      error,
    );
  }
}

export async function replayRun(
  files: ReadonlyMap<string, Uint8Array>,
  runDir: string,
  storeRoot: string,
  mode: "frozen" | "live",
): Promise<ReplayResult> {
  const spec = parseFile(files, RUN_FILES.spec, (v) => ProblemSpec.parse(v), runDir);
  const run: RunRecord = parseFile(files, RUN_FILES.run, (v) => RunRecordSchema.parse(v), runDir);
  const recordedBytes = files.get(RUN_FILES.trace);
  if (recordedBytes === undefined)
    throw new InputError("E_NOT_A_RUN", "trace.jsonl is missing", { file: runDir });
  const recorded = parseTrace(recordedBytes, runDir);
  const { runtime } = run.inputs;
  const reasoner = REASONERS[runtime.reasoner.id];
  if (reasoner === undefined || reasoner.version !== runtime.reasoner.version) {
    throw new InputError(
      "E_USAGE",
      `the run was reasoned by ${runtime.reasoner.id} ${runtime.reasoner.version}; this build has ${extractiveReasoner.id} ${extractiveReasoner.version}, so it cannot replay the run: \`canon-reason diff\` it against a run made by this build`,
      { file: runDir },
    );
  }
  const tool = runtime.tools.find((t) => t.name === "retrieve");
  const provenance = tool === undefined ? null : (RetrievalProvenance.safeParse(tool.config).data ?? null);
  if (tool !== undefined && provenance === null) {
    throw new InputError(
      "E_NOT_A_RUN",
      "run.json's retrieve tool config is unreadable: run `canon-reason verify`",
      { file: runDir },
    );
  }
  let dispatcher = frozenDispatcher(recorded);
  if (mode === "live" && provenance !== null) {
    const prepared = await prepareRetrieval(
      new DiskStore(storeRoot),
      `sha256:${provenance.corpus_snapshot}`,
      {
        analyzer: provenance.analyzer.name as "simple" | "english",
        bm25_k1: provenance.k1,
        bm25_b: provenance.b,
        chunk_chars: provenance.chunk_chars,
        overlap_chars: provenance.overlap_chars,
        index_titles: provenance.index_titles,
      },
      provenance.limits,
    );
    dispatcher = liveTools(prepared.backend);
  }
  const replayed = traceRun(spec, {
    preset: run.inputs.preset,
    seed: run.inputs.seed,
    producer: run.inputs.producer,
    reasoner,
    provenance,
    dispatcher,
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

/** Replays the run in `runDir`; `storeRoot` is the artifacts root whose store holds its snapshot. */
export function replayRunDirectory(
  runDir: string,
  storeRoot: string,
  mode: "frozen" | "live",
): Promise<ReplayResult> {
  return replayRun(readRunDirectory(runDir).files, runDir, storeRoot, mode);
}
