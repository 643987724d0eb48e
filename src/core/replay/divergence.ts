/**
 * Where two traces first differ (docs/design.md §6): the event index, its type, the field path that
 * differs, and the values before and after. Pure, so replay and diff share it.
 */
import { canonicalJson, type JsonValue } from "../canonical.js";

export interface Divergence {
  /** Event index (-1 for the header line). */
  index: number;
  kind: string;
  /** JSON path inside the event, e.g. "result.payload.hits[0].score". */
  field: string;
  before: JsonValue | null;
  after: JsonValue | null;
}

/** The first differing leaf between two JSON values, depth first in key order. */
export function firstDifference(
  a: unknown,
  b: unknown,
  path = "",
): { field: string; before: unknown; after: unknown } | null {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return null;
  const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null;
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b))
    return { field: path || "(value)", before: a, after: b };
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  for (const key of keys) {
    const d = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
    );
    if (d !== null) return d;
  }
  return null;
}

const UNPARSEABLE = { type: "unparseable" } as const;

function parseLine(line: string | undefined): Record<string, unknown> | null {
  if (line === undefined || line === "") return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : UNPARSEABLE;
  } catch {
    return UNPARSEABLE;
  }
}

/** Compares two trace.jsonl texts line by line; null when they are identical. */
export function firstDivergence(recorded: string, replayed: string): Divergence | null {
  if (recorded === replayed) return null;
  const a = recorded.split("\n");
  const b = replayed.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const before = parseLine(a[i]);
    const after = parseLine(b[i]);
    const known = [before, after].find((l) => l !== null && l !== UNPARSEABLE) ?? before ?? after;
    const kind = String(known?.type ?? "missing");
    // A line that is not JSON has no fields to compare: show both lines as they are.
    if (before === UNPARSEABLE || after === UNPARSEABLE)
      return { index: i - 1, kind, field: "(line)", before: a[i] ?? null, after: b[i] ?? null };
    const d = firstDifference(before, after);
    return {
      index: i - 1,
      kind,
      field: d?.field ?? "(line)",
      before: (d?.before ?? null) as JsonValue | null,
      after: (d?.after ?? null) as JsonValue | null,
    };
  }
  return null;
}
