/** Wires `diff` to the disk: reads both runs and the corpus snapshots their stores hold. */

import type { RunView } from "../../core/artifact/view.js";
import { readSnapshot } from "../../core/corpus/document.js";
import { diffRuns, type RunDiff, type SnapshotDocuments } from "../../core/diff/diff.js";
import { CanonError } from "../../core/errors.js";
import { openRun, requireParts } from "../../io/runs/run-reader.js";
import { DiskStore } from "../../io/store/content-store.js";

export type { LayerDiff, RunDiff } from "../../core/diff/diff.js";

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

/**
 * The parsed run, or bad input when a file every layer hangs off (spec, plan, trace, run)
 * does not parse. Altered bytes that still parse (an edited evidence file, a changed score)
 * are diffed as usual.
 */
function readDiffView(runDir: string): RunView {
  const run = openRun(runDir);
  requireParts(run, ["spec", "plan", "trace", "run"]);
  return run.view;
}

/** Both parsed runs and their diff (the report page shows the runs beside the diff). */
export function readRunDiff(
  a: { runDir: string; storeRoot: string },
  b: { runDir: string; storeRoot: string },
): { a: RunView; b: RunView; diff: RunDiff } {
  const viewA = readDiffView(a.runDir);
  const viewB = readDiffView(b.runDir);
  const diff = diffRuns(viewA, viewB, {
    a: snapshotDocuments(viewA, a.storeRoot),
    b: snapshotDocuments(viewB, b.storeRoot),
  });
  return { a: viewA, b: viewB, diff };
}

export function diffRunDirectories(
  a: { runDir: string; storeRoot: string },
  b: { runDir: string; storeRoot: string },
): RunDiff {
  return readRunDiff(a, b).diff;
}
