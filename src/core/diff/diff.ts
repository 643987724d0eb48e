/**
 * Diff of two runs (docs/design.md §6): compares the layers in pipeline order, names the first that
 * differs and what changed there, and lists the later layers that changed as a consequence.
 */

import type { RunView } from "../artifact/view.js";
import { canonicalJson, type JsonValue } from "../canonical.js";
import type { CorpusDocument } from "../corpus/document.js";
import { LAYERS, type Layer, projectLayer } from "./layers.js";

export interface FieldChange {
  field: string;
  before: JsonValue | null;
  after: JsonValue | null;
}

export interface LayerDiff {
  layer: Layer;
  changed: boolean;
  changes: FieldChange[];
  /** Layer-specific detail: documents added/removed/changed, rank moves, ... */
  detail?: Record<string, JsonValue>;
}

export interface RunDiff {
  identical: boolean;
  first_layer: Layer | null;
  consequences: Layer[];
  layers: LayerDiff[];
}

/** Snapshot documents by id, when the store holds them; null when it does not. */
export type SnapshotDocuments = ReadonlyMap<string, CorpusDocument> | null;

const MAX_CHANGES = 20;
const MAX_LISTED = 50;

/** Every differing leaf (up to a cap), depth first in key order. */
export function fieldChanges(a: unknown, b: unknown, path = "", out: FieldChange[] = []): FieldChange[] {
  if (out.length >= MAX_CHANGES || canonicalJson(a ?? null) === canonicalJson(b ?? null)) return out;
  const objects =
    typeof a === "object" &&
    a !== null &&
    typeof b === "object" &&
    b !== null &&
    Array.isArray(a) === Array.isArray(b);
  if (!objects) {
    out.push({ field: path || "(value)", before: (a ?? null) as JsonValue, after: (b ?? null) as JsonValue });
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) fieldChanges(a[i], b[i], `${path}[${i}]`, out);
    return out;
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  for (const k of keys)
    fieldChanges(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      path ? `${path}.${k}` : k,
      out,
    );
  return out;
}

function corpusDetail(a: SnapshotDocuments, b: SnapshotDocuments): Record<string, JsonValue> {
  if (a === null || b === null)
    return { documents_compared: false, reason: "a corpus snapshot is not in the store" };
  const added = [...b.keys()].filter((id) => !a.has(id));
  const removed = [...a.keys()].filter((id) => !b.has(id));
  const changed = [...a.keys()].filter(
    (id) => b.has(id) && canonicalJson(a.get(id)) !== canonicalJson(b.get(id)),
  );
  const list = (ids: string[]) => ids.sort().slice(0, MAX_LISTED);
  return {
    added: list(added),
    removed: list(removed),
    changed: list(changed),
    counts: { added: added.length, removed: removed.length, changed: changed.length },
  };
}

function retrievalDetail(a: RunView, b: RunView): Record<string, JsonValue> {
  const ranks = (v: RunView) =>
    new Map((v.retrieval?.hits ?? []).map((h) => [`${h.doc_id}@${h.span[0]}-${h.span[1]}`, h]));
  const ra = ranks(a);
  const rb = ranks(b);
  const moved = [...ra].flatMap(([chunk, h]) => {
    const other = rb.get(chunk);
    return other === undefined || (other.rank === h.rank && other.score === h.score)
      ? []
      : [
          {
            chunk,
            rank_before: h.rank,
            rank_after: other.rank,
            score_delta: Math.round((other.score - h.score) * 1e6) / 1e6,
          },
        ];
  });
  return {
    gained: [...rb.keys()].filter((c) => !ra.has(c)),
    lost: [...ra.keys()].filter((c) => !rb.has(c)),
    moved,
  };
}

export function diffRuns(
  a: RunView,
  b: RunView,
  snapshots: { a: SnapshotDocuments; b: SnapshotDocuments },
): RunDiff {
  const layers: LayerDiff[] = LAYERS.map((layer) => {
    const changes = fieldChanges(projectLayer(layer, a), projectLayer(layer, b));
    const diff: LayerDiff = { layer, changed: changes.length > 0, changes };
    if (diff.changed && layer === "corpus") diff.detail = corpusDetail(snapshots.a, snapshots.b);
    if (diff.changed && layer === "retrieval") diff.detail = retrievalDetail(a, b);
    return diff;
  });
  const changed = layers.filter((l) => l.changed).map((l) => l.layer);
  return {
    identical: changed.length === 0,
    first_layer: changed[0] ?? null,
    consequences: changed.slice(1),
    layers,
  };
}
