/** Wires `diff` to the disk: reads both runs and the corpus snapshots their stores hold. */
import { readSnapshot } from "../core/corpus/document.js";
import { diffRuns, type RunDiff, type SnapshotDocuments } from "../core/diff/diff.js";
import { CanonError, InputError } from "../core/errors.js";
import { RUN_FILES } from "../core/run/files.js";
import { renderFinding } from "../core/verify/messages.js";
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

/**
 * The parsed run, or bad input when a file every layer hangs off (spec, plan, trace, run)
 * does not parse: diffing it would blame a layer for what is really a broken file. Altered
 * bytes that still parse (an edited evidence file, a changed score) are diffed as usual.
 */
function readDiffView(runDir: string): RunView {
  const { view, findings } = toRunView(readRunDirectory(runDir).files);
  const parsed = {
    [RUN_FILES.spec]: view.spec,
    [RUN_FILES.plan]: view.plan,
    [RUN_FILES.trace]: view.trace,
    [RUN_FILES.run]: view.run,
  };
  const broken = Object.entries(parsed).flatMap(([path, value]) => (value === null ? [path] : []));
  if (broken.length > 0) {
    const why = findings.find((f) => "path" in f.params && broken.includes(f.params.path));
    throw new InputError(
      "E_NOT_A_RUN",
      `${why === undefined ? `${broken.join(", ")} do not parse` : renderFinding(why)}: run \`canon-reason verify\` on it first`,
      { file: runDir },
    );
  }
  return view;
}

export function diffRunDirectories(
  a: { runDir: string; storeRoot: string },
  b: { runDir: string; storeRoot: string },
): RunDiff {
  const viewA = readDiffView(a.runDir);
  const viewB = readDiffView(b.runDir);
  return diffRuns(viewA, viewB, {
    a: snapshotDocuments(viewA, a.storeRoot),
    b: snapshotDocuments(viewB, b.storeRoot),
  });
}
