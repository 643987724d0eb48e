/**
 * Rows as both registries store them, and the paging over them. `seq` is the insertion order:
 * a number from SQLite, a string from PostgreSQL (bigint comes back as text).
 */
import { ProblemSpec } from "../core/models/spec.js";
import { CURSOR_PATTERN, type Item, type Page, type PageRequest, type RunEntry } from "./run-registry.js";

type Seq = number | string;

export interface RunRow extends RunEntry {
  seq: Seq;
}

export interface ItemRow {
  seq: Seq;
  id: string;
  created_at: string;
  version: number;
  name: string;
  spec: string;
  updated_at: string;
}

export const toRun = ({ seq: _seq, ...entry }: RunRow): RunEntry => entry;

export const toItem = (row: ItemRow): Item => ({
  id: row.id,
  name: row.name,
  version: row.version,
  // Written by us from a parsed spec; parsed again so an edited row cannot smuggle one in.
  spec: ProblemSpec.parse(JSON.parse(row.spec)),
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** The sequence number a page starts below: the cursor given, or above every row. */
export function afterCursor(page: PageRequest): number {
  return page.cursor !== undefined && CURSOR_PATTERN.test(page.cursor)
    ? Number(page.cursor)
    : Number.MAX_SAFE_INTEGER;
}

/** One page of rows fetched with `limit + 1`: the extra row only says there is a next page. */
export function pageOf<R extends { seq: Seq }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { entries: kept.map(map), next_cursor: more && last !== undefined ? String(last.seq) : null };
}
