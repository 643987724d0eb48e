/**
 * A minimal hand-made run for the unit tests of each verification check (issue 8): a
 * three-document corpus snapshotted and indexed in memory, produced by the real producer,
 * held in an in-memory store. Each test derives a view with one targeted edit and asserts the
 * exact finding codes one check returns. No disk and no CLI: producing the run takes a fraction
 * of a second, and each test is a few milliseconds.
 */
import { generateKeyPairSync } from "node:crypto";
import { jsonFile, RUN_FILES, type RunFiles, traceFile } from "../../../../src/core/artifact/files.js";
import { signRootDigest } from "../../../../src/core/artifact/signature.js";
import { type RunView, toRunView } from "../../../../src/core/artifact/view.js";
import { sha256Hex } from "../../../../src/core/canonical.js";
import { type CorpusDocument, findDocuments, snapshotLine } from "../../../../src/core/corpus/document.js";
import { IntegrityError } from "../../../../src/core/errors.js";
import type { ModelCall } from "../../../../src/core/models/model-call.js";
import type { NodeKind, PlanNode } from "../../../../src/core/models/plan.js";
import type { Manifest } from "../../../../src/core/models/run.js";
import type { ProblemSpec } from "../../../../src/core/models/spec.js";
import type {
  RetrievalProvenance,
  StepOutput,
  Trace,
  TraceEvent,
} from "../../../../src/core/models/trace.js";
import { liveTools, llmInputOf, produceRun } from "../../../../src/core/pipeline/produce.js";
import { resolveParams } from "../../../../src/core/plan/planner.js";
import { extractiveReasoner } from "../../../../src/core/reason/extractive.js";
import { extractiveReasonerV1 } from "../../../../src/core/reason/extractive-v1.js";
import { chatRequest, llmReasoner } from "../../../../src/core/reason/llm.js";
import type { ReasonerInput } from "../../../../src/core/reason/reasoner.js";
import { getAnalyzer } from "../../../../src/core/retrieval/analyzer.js";
import { buildIndex } from "../../../../src/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../../../../src/core/retrieval/bm25/bm25-format.js";
import {
  pickIndexParams,
  provenanceIndexFields,
  toBm25Params,
} from "../../../../src/core/retrieval/index-params.js";
import type { CheckContext, CheckOutcome, StoreReader } from "../../../../src/core/verify/check.js";
import type { FindingCode } from "../../../../src/core/verify/findings.js";
import { verifyRun } from "../../../../src/core/verify/verifier.js";
import { DEFAULT_LIMITS } from "../../../../src/io/corpus/corpus-reader.js";
import { PRODUCER } from "../../../../src/version.js";
import { parseTrace, recomputeIds, renumber } from "../../../helpers/forge.js";
import { toFormat1 } from "../../../helpers/index-format-1.js";

/** Two documents about bridge card play, one about something else. */
export const CORPUS: readonly CorpusDocument[] = [
  {
    doc_id: "bridge.md",
    title: "Contract bridge",
    text: "In bridge, a trick is won by the highest card of the suit that was led, unless a trump is played.\n\nThe declarer plays both hands of the partnership.\n",
  },
  {
    doc_id: "bidding.md",
    title: "Bidding",
    text: "The auction decides the trump suit. A trick counts for the side that won it in contract bridge.\n",
  },
  {
    doc_id: "tea.md",
    title: "Tea ceremony",
    text: "The Japanese tea ceremony is called chado, the way of tea.\n",
  },
];

export const QUESTION = "How is a trick won in contract bridge?";
/** No content word of this question is in the corpus: the run ends in insufficient evidence. */
export const UNANSWERABLE = "Which volcano erupted in Iceland?";

/** The content-addressed store in memory: get() re-hashes and throws IntegrityError, as DiskStore does. */
export class MemoryStore implements StoreReader {
  private readonly objects = new Map<string, Uint8Array>();

  put(bytes: Uint8Array): string {
    const hash = sha256Hex(bytes);
    this.objects.set(hash, bytes);
    return hash;
  }

  /** Stores bytes under a name they do not hash to: a corrupt object. */
  putCorrupt(hash: string, bytes: Uint8Array): void {
    this.objects.set(hash, bytes);
  }

  get(hash: string): Uint8Array | null {
    const bytes = this.objects.get(hash);
    if (bytes === undefined) return null;
    if (sha256Hex(bytes) !== hash) throw new IntegrityError(`store object ${hash} is corrupt`);
    return bytes;
  }

  /** A copy with some objects dropped or replaced. */
  with(changes: Record<string, Uint8Array | null>): MemoryStore {
    const copy = new MemoryStore();
    for (const [hash, bytes] of this.objects) copy.objects.set(hash, bytes);
    for (const [hash, bytes] of Object.entries(changes))
      if (bytes === null) copy.objects.delete(hash);
      else copy.objects.set(hash, bytes);
    return copy;
  }
}

export interface Fixture {
  files: RunFiles;
  view: RunView;
  store: MemoryStore;
  snapshotHash: string;
  indexHash: string;
}

/** Snapshot, index and provenance built in memory, as prepareRetrieval builds them on disk. */
function prepare(store: MemoryStore, spec: ProblemSpec, options: ProduceOptions = {}) {
  const params = pickIndexParams(resolveParams(spec, options.preset ?? "default"));
  const snapshotHash = store.put(Buffer.from(CORPUS.map(snapshotLine).join(""), "utf8"));
  const index = buildIndex(
    CORPUS.map((d) =>
      d.title === undefined
        ? { docId: d.doc_id, text: d.text }
        : { docId: d.doc_id, text: d.text, title: d.title },
    ),
    toBm25Params(params),
  );
  const texts = new Map(CORPUS.map((d) => [d.doc_id, d.text]));
  const indexHash = store.put(
    options.legacy === true ? toFormat1(serializeIndex(index), texts) : serializeIndex(index),
  );
  const analyzer = getAnalyzer(params.analyzer);
  const provenance: RetrievalProvenance = {
    corpus_snapshot: snapshotHash,
    index_hash: indexHash,
    ...provenanceIndexFields(params, analyzer),
    limits: { ...DEFAULT_LIMITS },
    documents: index.stats.documents,
    chunks: index.stats.chunks,
    // Retrieve tool 2, as every current run records (tool 1 with extractive 2 was never released).
    ...(options.legacy === true ? {} : { evidence: "sentences" as const }),
  };
  const snapshot = store.get(snapshotHash) as Uint8Array;
  const lookup = (ids: readonly string[]) =>
    new Map([...findDocuments(snapshot, ids)].map(([id, doc]) => [id, Buffer.from(doc.text, "utf8")]));
  return { snapshotHash, indexHash, backend: { index, provenance, lookup } };
}

export interface ProduceOptions {
  preset?: string;
  constraints?: ProblemSpec["constraints"];
  /** As 0.1.0 made it: retrieve tool 1 (bare chunks), extractive 1, an index of format 1. */
  legacy?: boolean;
}

/** A run over the fixture corpus, produced by the real producer (exported for the forgery generator). */
export function produce(question: string, options: ProduceOptions = {}): Fixture {
  const store = new MemoryStore();
  const draft: ProblemSpec = {
    version: "1",
    description: question,
    constraints: { ...options.constraints, corpus: "in-memory" },
  };
  const { snapshotHash, indexHash, backend } = prepare(store, draft, options);
  const spec = { ...draft, constraints: { ...draft.constraints, corpus: `sha256:${snapshotHash}` } };
  const produced = produceRun(spec, {
    preset: options.preset ?? "default",
    seed: 0,
    producer: PRODUCER,
    reasoner: options.legacy === true ? extractiveReasonerV1 : extractiveReasoner,
    provenance: backend.provenance,
    dispatcher: liveTools(backend),
    verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing" }),
  });
  return { files: produced.files, view: reread(produced.files), store, snapshotHash, indexHash };
}

/** A chat-completions response body whose message content is `content`. */
export function completionBody(content: string, finishReason = "stop"): string {
  return JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "test-model",
    choices: [{ index: 0, finish_reason: finishReason, message: { role: "assistant", content } }],
  });
}

export const LLM_SPEC_CONSTRAINTS = {
  reasoner: "llm",
  model: "test-model",
  base_url: "http://127.0.0.1:9/v1",
} as const;

/**
 * A run of the llm reasoner whose model answered `content`, produced by the real producer
 * from a recording made here (no network): what `runJob` does around its one HTTP call.
 */
export function llmRun(
  content: string | ((input: ReasonerInput) => string),
): Fixture & { modelCall: ModelCall } {
  const store = new MemoryStore();
  const draft: ProblemSpec = {
    version: "1",
    description: QUESTION,
    constraints: { corpus: "in-memory", ...LLM_SPEC_CONSTRAINTS },
  };
  const { snapshotHash, indexHash, backend } = prepare(store, draft);
  const spec = { ...draft, constraints: { ...draft.constraints, corpus: `sha256:${snapshotHash}` } };
  const common = { preset: "default", seed: 0, producer: PRODUCER, provenance: backend.provenance };
  const looked = llmInputOf(spec, { ...common, dispatcher: liveTools(backend) });
  const modelCall: ModelCall = {
    version: "1",
    endpoint: "http://127.0.0.1:9/v1/chat/completions",
    request: chatRequest(looked.input),
    response: {
      status: 200,
      body: completionBody(typeof content === "string" ? content : content(looked.input)),
    },
  };
  const produced = produceRun(spec, {
    ...common,
    reasoner: llmReasoner,
    dispatcher: looked.dispatcher,
    modelCall,
    verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing" }),
  });
  return { files: produced.files, view: reread(produced.files), store, snapshotHash, indexHash, modelCall };
}

let answered: Fixture | undefined;
let insufficient: Fixture | undefined;

/** The answered run (memoized: produced once per test file). */
export function answeredRun(): Fixture {
  answered ??= produce(QUESTION);
  return answered;
}

/** A run that ends in insufficient evidence (memoized). */
export function insufficientRun(): Fixture {
  insufficient ??= produce(UNANSWERABLE);
  return insufficient;
}

/** The view of some files, through the one adapter the verifier uses. */
export function reread(files: ReadonlyMap<string, Uint8Array>): RunView {
  return toRunView(files).view;
}

/** A copy of files with some replaced (string or bytes) or deleted (null). */
export function withFiles(
  files: ReadonlyMap<string, Uint8Array>,
  changes: Record<string, Uint8Array | string | null>,
): RunFiles {
  const copy = new Map(files);
  for (const [path, bytes] of Object.entries(changes))
    if (bytes === null) copy.delete(path);
    else copy.set(path, typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes);
  return copy;
}

/** The parsed trace of a fixture, a fresh copy to edit. */
export function traceOf(fixture: Fixture): Trace {
  return parseTrace(fixture.files.get(RUN_FILES.trace) as Uint8Array);
}

/**
 * The view after one edit to the parsed trace (ids are NOT recomputed: each check is tested for
 * its own code, and content_ids' findings belong to content_ids). Evidence, claims and the
 * retrieval payload are re-derived from the edited trace by the adapter.
 */
export function withTrace(
  fixture: Fixture,
  edit: (trace: Trace) => void,
  options: { recomputeIds?: boolean } = {},
): RunView {
  let trace = traceOf(fixture);
  edit(trace);
  renumber(trace);
  if (options.recomputeIds === true) trace = recomputeIds(trace);
  return reread(withFiles(fixture.files, { [RUN_FILES.trace]: traceFile(trace) }));
}

/** A deep copy of a view with one edit made to it directly (no re-parse, nothing re-derived). */
export function edited(view: RunView, mutate: (copy: RunView) => void): RunView {
  const copy = structuredClone(view);
  mutate(copy);
  return copy;
}

/** Fails loudly instead of returning undefined, so an edit never silently misses its target. */
function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`fixture has no ${what}`);
  return value;
}

export function traceIn(view: RunView): Trace {
  return must(view.trace, "trace");
}

/** The plan node of a kind. */
export function nodeIn(view: RunView, kind: NodeKind): PlanNode {
  return must(
    must(view.plan, "plan").nodes.find((n) => n.kind === kind),
    `${kind} node`,
  );
}

/** The index of the first event matching. */
export function indexOf(trace: Trace, match: (e: TraceEvent) => boolean): number {
  const i = trace.events.findIndex(match);
  if (i < 0) throw new Error("fixture has no such event");
  return i;
}

/** The first event of a type (and, for step_finished, of an output type). */
export function eventOf<T extends TraceEvent["type"]>(
  trace: Trace,
  type: T,
  nth = 0,
): Extract<TraceEvent, { type: T }> {
  return must(trace.events.filter((e) => e.type === type)[nth], `${type} event #${nth}`) as Extract<
    TraceEvent,
    { type: T }
  >;
}

/** The output of the step that finished with this output type. */
export function outputOf<T extends StepOutput["type"]>(
  trace: Trace,
  type: T,
): Extract<StepOutput, { type: T }> {
  const found = trace.events.find((e) => e.type === "step_finished" && e.output.type === type);
  return must(found?.type === "step_finished" ? found.output : undefined, `${type} output`) as Extract<
    StepOutput,
    { type: T }
  >;
}

/** A syntactically valid id that names nothing in the run. */
export const bogusId = (kind: string) => `${kind}_v1_${"0".repeat(64)}`;
export const ZEROS = "0".repeat(64);

/** A JSON file of the run, parsed, to edit and write back with jsonFile. */
export function jsonOf<T = Record<string, unknown>>(fixture: Fixture, path: string): T {
  return JSON.parse(Buffer.from(fixture.files.get(path) as Uint8Array).toString("utf8")) as T;
}

/** The view after replacing one JSON file with an edited copy of itself. */
export function withJson<T = Record<string, unknown>>(
  fixture: Fixture,
  path: string,
  edit: (value: T) => void,
): RunView {
  const value = jsonOf<T>(fixture, path);
  edit(value);
  return reread(withFiles(fixture.files, { [path]: jsonFile(value) }));
}

export const sealing = (store: StoreReader): CheckContext => ({ store, stage: "sealing", readProblems: [] });

/** The files as they were when the run was sealed: without report, manifest and signature. */
export function unsealed(files: ReadonlyMap<string, Uint8Array>): RunFiles {
  return withFiles(files, {
    [RUN_FILES.report]: null,
    [RUN_FILES.manifest]: null,
    [RUN_FILES.signature]: null,
  });
}

/** The context `verify` gives a sealed run: the sealing report recomputed from its files. */
export function sealed(
  fixture: Fixture,
  extra: Partial<CheckContext> = {},
  files: ReadonlyMap<string, Uint8Array> = fixture.files,
): CheckContext {
  return {
    store: fixture.store,
    stage: "sealed",
    readProblems: [],
    sealingReport: () =>
      verifyRun({ files: unsealed(files), store: fixture.store, policy: "audit", stage: "sealing" }),
    ...extra,
  };
}

/** An Ed25519 key pair, made once. */
let keys: { publicPem: string; privatePem: string } | undefined;
export function keyPair(): { publicPem: string; privatePem: string } {
  if (keys === undefined) {
    const pair = generateKeyPairSync("ed25519");
    keys = {
      publicPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
      privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
  }
  return keys;
}

/** The answered run's files, signed with keyPair(). */
export function signedFiles(fixture: Fixture, privatePem = keyPair().privatePem): RunFiles {
  const manifest = jsonOf<Manifest>(fixture, RUN_FILES.manifest);
  return withFiles(fixture.files, {
    [RUN_FILES.signature]: jsonFile(signRootDigest(privatePem, manifest.root_digest)),
  });
}

/** The codes of an outcome's findings, in order. */
export function codes(outcome: CheckOutcome): FindingCode[] {
  return outcome.findings.map((f) => f.code);
}

/** The parameters of the one finding with this code (fails the test when there is not exactly one). */
export function paramsOf(outcome: CheckOutcome, code: FindingCode): Record<string, unknown> {
  const found = outcome.findings.filter((f) => f.code === code);
  if (found.length !== 1)
    throw new Error(`expected one ${code}, found ${found.length}: ${codes(outcome).join(", ")}`);
  return (found[0] as { params: Record<string, unknown> }).params;
}
