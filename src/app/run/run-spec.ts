/**
 * What an edge needs to turn its input into a ProblemSpec for `runJob`: the presets, the corpus
 * reference rule, the checks on user text, and the parameter check that names a clash before
 * anything runs. Parsing stays in the edge; the rules it parses by live here, once.
 */
import { parseCorpusRef } from "../../core/corpus/corpus-ref.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import { resolveParams } from "../../core/plan/planner.js";
import { type IndexParams, pickIndexParams } from "../../core/retrieval/index-params.js";

export { canonicalJson, type JsonValue, sha256Hex } from "../../core/canonical.js";
export { type CorpusRef, parseCorpusRef } from "../../core/corpus/corpus-ref.js";
export type { ProducedRun } from "../../core/pipeline/produce.js";
export { DEFAULT_PRESET, PRESETS } from "../../core/plan/planner.js";
export type { IndexParams } from "../../core/retrieval/index-params.js";
export { hasLoneSurrogate, loneSurrogateError } from "../../core/unicode.js";
export { zodToInputError } from "../../core/zod-errors.js";
export { readUserJson } from "../../io/fs/user-text.js";

/**
 * Resolves the spec's parameters only to check them: constraints that clash (overlap_chars >=
 * chunk_chars, an unknown preset, ...) are bad input found before anything runs.
 */
export function checkSpec(spec: ProblemSpec, preset: string): void {
  resolveParams(spec, preset);
}

/** The index parameters a run of this spec searches with. */
export function indexParamsOf(spec: ProblemSpec, preset: string): IndexParams {
  return pickIndexParams(resolveParams(spec, preset));
}

/** The snapshot hash a `sha256:` corpus names, or null for a path. */
export function snapshotHashOf(corpus: string): string | null {
  const ref = parseCorpusRef(corpus);
  return ref.kind === "snapshot" ? ref.hash : null;
}
