/** Wires `diff` to the disk: reads both runs and the corpus snapshots their stores hold. */
import { readSnapshot } from "../core/corpus/document.js";
import { diffRuns, type RunDiff, type SnapshotDocuments } from "../core/diff/diff.js";
import { CanonError } from "../core/errors.js";
import { type RunView, toRunView } from "../core/verify/view.js";
import { readRunDirectory } from "../io/run-reader.js";
import { DiskStore } from "../io/store.js";

function snapshotDocuments(view: RunView, storeRoot: string): SnapshotDocuments {
  const hash = view.retrieval?.provenance.corpus_snapshot;
  if (hash === undefined) return null;
  try {
    const bytes = new DiskStore(storeRoot).get(hash);
    return bytes === null ? null : new Map([...readSnapshot(bytes)].map((d) => [d.doc_id, d]));
  } catch (error) {
    if (error instanceof CanonError) return null;
    throw error;
  }
}

export function diffRunDirectories(
  a: { runDir: string; storeRoot: string },
  b: { runDir: string; storeRoot: string },
): RunDiff {
  const viewA = toRunView(readRunDirectory(a.runDir).files).view;
  const viewB = toRunView(readRunDirectory(b.runDir).files).view;
  return diffRuns(viewA, viewB, {
    a: snapshotDocuments(viewA, a.storeRoot),
    b: snapshotDocuments(viewB, b.storeRoot),
  });
}
