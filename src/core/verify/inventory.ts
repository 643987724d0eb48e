/**
 * The field inventory (issue 19 item 1): for every file a run can contain and every field in
 * it, how the verifier establishes it. A field is one of:
 *
 * - `plan`: recomputed from spec.json and the preset (plan_dag recomputes the plan);
 * - `pinned`: recomputed from the pinned inputs, snapshot -> index -> retrieval -> evidence
 *   (retrieval_provenance, retrieval_recompute, evidence_origin, evidence_files);
 * - `rederived`: re-derived by the recorded reasoner from the recorded evidence (rederive,
 *   grounding, outcome); for the llm reasoner from the recording, whose request and endpoint
 *   must be the ones the plan makes;
 * - `hash`: an id, digest or projection of something recomputed (content_ids, manifest,
 *   report_recompute, outcome's answer view, the provenance projections);
 * - `label`: recorded, not verified: no check can establish it. Labels are few; `inspect`
 *   and the report page show them as "recorded, not verified".
 *
 * test/core/verify/inventory.test.ts walks every field of runs of every kind, fails on a
 * field without an entry here, and forges each non-label field (re-sealing the run the way the
 * producer does): `verify` must fail every one.
 *
 * The entries live in one table per run file under inventory/ (spec.ts, plan.ts, run.ts,
 * trace.ts, model.ts, and derived.ts for the evidence text, projections, seal and volatile/);
 * a new field gets its entry in its file's table.
 */
import { DERIVED_FIELDS } from "./inventory/derived.js";
import type { FieldEntry, FieldPattern } from "./inventory/entries.js";
import { MODEL_FIELDS } from "./inventory/model.js";
import { PLAN_FIELDS } from "./inventory/plan.js";
import { RUN_FIELDS } from "./inventory/run.js";
import { SPEC_FIELDS } from "./inventory/spec.js";
import { TRACE_FIELDS } from "./inventory/trace.js";

export type { FieldEntry, FieldKind, FieldPattern } from "./inventory/entries.js";

/** JSON objects whose keys are data, not field names. */
export const RECORD_FIELDS: ReadonlySet<string> = new Set([
  "manifest.json:files",
  "trace.jsonl#tool_returned:result.payload.term_stats.df",
]);

/** Every field's entry: one table per run file (inventory/), in this order. */
export const FIELD_INVENTORY: Readonly<Record<FieldPattern, FieldEntry>> = {
  ...SPEC_FIELDS,
  ...PLAN_FIELDS,
  ...RUN_FIELDS,
  ...TRACE_FIELDS,
  ...MODEL_FIELDS,
  ...DERIVED_FIELDS,
};

/**
 * The entry for a field pattern: exact; for an array, its elements' entry; else a file-wide
 * `<file>:*` entry; else undefined (a field the inventory does not know).
 */
export function fieldEntry(pattern: FieldPattern): FieldEntry | undefined {
  const exact = FIELD_INVENTORY[pattern];
  if (exact !== undefined) return exact;
  const element = Object.keys(FIELD_INVENTORY).find(
    (p) => p === `${pattern}[]` || p.startsWith(`${pattern}[].`),
  );
  if (element !== undefined) return FIELD_INVENTORY[element];
  const below = Object.keys(FIELD_INVENTORY).find(
    (p) => p.endsWith(".**") && pattern.startsWith(p.slice(0, -2)),
  );
  if (below !== undefined) return FIELD_INVENTORY[below];
  const file = pattern.slice(0, pattern.indexOf(":"));
  return (
    FIELD_INVENTORY[`${file}:*`] ??
    (file.startsWith("volatile/") ? FIELD_INVENTORY["volatile/*:"] : undefined)
  );
}

/** The labels: recorded, not verified. */
export function labelFields(): Array<[FieldPattern, FieldEntry]> {
  return Object.entries(FIELD_INVENTORY).filter(([, e]) => e.kind === "label");
}

export interface Field {
  /** The inventory pattern. */
  pattern: FieldPattern;
  /** Where the value is: the run path, the trace line (0 = header) and the JSON keys. */
  path: string;
  line: number | null;
  keys: Array<string | number>;
  value: unknown;
}

function fileKey(path: string): string {
  if (/^evidence\/[0-9a-f]{64}\.txt$/.test(path)) return "evidence/*.txt";
  if (/^model\/[0-9a-f]{64}\.json$/.test(path)) return "model/*.json";
  if (path.startsWith("volatile/")) return "volatile/*";
  return path;
}

function lineKey(value: unknown, line: number): string {
  if (line === 0) return "trace.jsonl#header";
  const e = value as { type?: unknown; output?: { type?: unknown } };
  if (e.type === "step_finished") return `trace.jsonl#step_finished/${String(e.output?.type)}`;
  return `trace.jsonl#${String(e.type)}`;
}

function walk(
  file: string,
  at: { path: string; line: number | null },
  value: unknown,
  keys: Array<string | number>,
  json: string,
  out: Field[],
): void {
  const pattern = `${file}:${json}`;
  if (Array.isArray(value)) {
    out.push({ pattern, ...at, keys, value });
    value.forEach((v, i) => {
      walk(file, at, v, [...keys, i], `${json}[]`, out);
    });
  } else if (typeof value === "object" && value !== null) {
    if (Object.keys(value).length === 0 || RECORD_FIELDS.has(pattern))
      out.push({ pattern, ...at, keys, value });
    const record = RECORD_FIELDS.has(pattern);
    for (const [k, v] of Object.entries(value))
      walk(file, at, v, [...keys, k], record ? `${json}.*` : json === "" ? k : `${json}.${k}`, out);
  } else out.push({ pattern, ...at, keys, value });
}

/** Every field of every file of a run, with its inventory pattern (JSON leaves, arrays, records). */
export function runFields(files: ReadonlyMap<string, Uint8Array>): Field[] {
  const out: Field[] = [];
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const key = fileKey(path);
    const text = Buffer.from(bytes).toString("utf8");
    if (path === "trace.jsonl") {
      text
        .trimEnd()
        .split("\n")
        .forEach((line, i) => {
          const value = JSON.parse(line) as unknown;
          walk(lineKey(value, i), { path, line: i }, value, [], "", out);
        });
    } else if (path.endsWith(".json") && !path.startsWith("volatile/")) {
      if (key === "model/*.json") out.push({ pattern: `${key}:`, path, line: null, keys: [], value: null });
      walk(key, { path, line: null }, JSON.parse(text) as unknown, [], "", out);
    } else out.push({ pattern: `${key}:`, path, line: null, keys: [], value: text });
  }
  return out;
}

export interface RecordedLabel {
  /** Where: the file and the JSON path of the value. */
  field: string;
  value: string;
  how: string;
}

const MAX_LABEL_VALUE = 80;

/**
 * The label values a run records, for `inspect` and the report page ("recorded, not verified"):
 * run.json's and the model recording's; the trace's copies of the same values are left out, and
 * volatile/ (timings) is shown by the pages that show timings.
 */
export function recordedLabels(files: ReadonlyMap<string, Uint8Array>): RecordedLabel[] {
  const shown = new Map<string, RecordedLabel>();
  let fields: Field[];
  try {
    fields = runFields(
      new Map([...files].filter(([p]) => p === "run.json" || /^model\/[0-9a-f]{64}\.json$/.test(p))),
    );
  } catch {
    return [];
  }
  for (const f of fields) {
    const entry = fieldEntry(f.pattern);
    if (entry?.kind !== "label") continue;
    const raw = typeof f.value === "string" ? f.value : JSON.stringify(f.value);
    const value =
      raw.length > MAX_LABEL_VALUE ? `${raw.slice(0, MAX_LABEL_VALUE)}… (${raw.length} characters)` : raw;
    const field = `${f.path} ${f.keys.join(".")}`;
    shown.set(field, { field, value, how: entry.how });
  }
  return [...shown.values()];
}
