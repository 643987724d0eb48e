/**
 * Runs produced in process, for tests of the pure replay and diff cores: the same produceRun
 * the CLI uses, over a small corpus in a temporary store, with nothing written under runs/.
 */

import type { RunFiles } from "../../src/core/artifact/files.js";
import { type RunView, toRunView } from "../../src/core/artifact/view.js";
import { parseCorpusRef } from "../../src/core/corpus/corpus-ref.js";
import { readSnapshot } from "../../src/core/corpus/document.js";
import type { SnapshotDocuments } from "../../src/core/diff/diff.js";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { liveTools, produceRun } from "../../src/core/pipeline/produce.js";
import { resolveParams } from "../../src/core/plan/planner.js";
import { extractiveReasoner } from "../../src/core/reason/extractive.js";
import type { Reasoner } from "../../src/core/reason/reasoner.js";
import { pickIndexParams } from "../../src/core/retrieval/index-params.js";
import { verifyRun } from "../../src/core/verify/verifier.js";
import { prepareRetrieval } from "../../src/io/index-cache/index-cache.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { PRODUCER } from "../../src/version.js";
import { tempDir, writeFiles } from "./tmp.js";

/** Four short documents: two about bridge card play, two about something else. */
export const SMALL_CORPUS: Record<string, string> = {
  "bridge.md":
    "# Contract bridge\n\nIn bridge, a trick is won by the highest card of the suit that was led, unless a trump is played.\n\nThe declarer plays both hands of the partnership.\n",
  "bidding.md":
    "# Bidding\n\nThe auction decides the trump suit. A trick counts for the side that won it in contract bridge.\n",
  "tea.md": "# Tea ceremony\n\nThe Japanese tea ceremony is called chado, the way of tea.\n",
  "bridges.md":
    "# Suspension bridges\n\nA suspension bridge hangs its deck from cables slung between towers.\n",
};

export interface ProducedFixture {
  runId: string;
  files: RunFiles;
  view: RunView;
  documents: SnapshotDocuments;
  /** The artifacts root whose store holds the snapshot and index. */
  root: string;
}

export interface FixtureOptions {
  corpus?: Record<string, string>;
  constraints?: ProblemSpec["constraints"];
  reasoner?: Reasoner;
  producer?: { name: string; version: string };
  seed?: number;
  /** Reuse an artifacts root (its store) across runs, as one user's machine would. */
  root?: string;
}

export async function produceFixture(
  question: string,
  options: FixtureOptions = {},
): Promise<ProducedFixture> {
  const root = options.root ?? tempDir();
  const corpusDir = tempDir();
  writeFiles(corpusDir, options.corpus ?? SMALL_CORPUS);
  const store = new DiskStore(root);
  const draft: ProblemSpec = {
    version: "1",
    description: question,
    constraints: { ...options.constraints, corpus: corpusDir },
  };
  const prepared = await prepareRetrieval(
    store,
    parseCorpusRef(corpusDir),
    pickIndexParams(resolveParams(draft, "default")),
  );
  const spec = { ...draft, constraints: { ...draft.constraints, corpus: `sha256:${prepared.snapshotHash}` } };
  const produced = produceRun(spec, {
    preset: "default",
    seed: options.seed ?? 0,
    producer: options.producer ?? PRODUCER,
    reasoner: options.reasoner ?? extractiveReasoner,
    provenance: prepared.backend.provenance,
    dispatcher: liveTools(prepared.backend),
    verify: (files) => verifyRun({ files, store, policy: "audit", stage: "sealing" }),
  });
  const snapshot = store.get(prepared.snapshotHash);
  return {
    runId: produced.runId,
    files: produced.files,
    view: toRunView(produced.files).view,
    documents: snapshot === null ? null : new Map([...readSnapshot(snapshot)].map((d) => [d.doc_id, d])),
    root,
  };
}

/** A copy of a run's files with some replaced, for tampering. */
export function withFiles(files: RunFiles, changes: Record<string, Uint8Array | string>): RunFiles {
  const copy = new Map(files);
  for (const [path, bytes] of Object.entries(changes))
    copy.set(path, typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes);
  return copy;
}
