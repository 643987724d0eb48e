/**
 * The service's registry (SPEC §8): an index of runs for listing and paging, and saved specs
 * ("items") with versions. Run directories and the content-addressed store stay the source of
 * truth: the run index can always be rebuilt from `runs/`. Kept narrow on purpose, so a
 * PostgreSQL implementation can follow without touching the routes.
 */
import type { ProblemSpec } from "../core/models/spec.js";

export interface RunEntry {
  run_id: string;
  /** When this registry first saw the run (ISO 8601); not part of the run's fingerprint. */
  registered_at: string;
  /** The item and item version the run was first created from, when it was. */
  item_id: string | null;
  item_version: number | null;
}

export interface Item {
  id: string;
  name: string;
  version: number;
  spec: ProblemSpec;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  entries: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Registry {
  /** Records a published run; a run already indexed keeps its first entry (idempotent). */
  addRun(entry: Omit<RunEntry, "registered_at">): RunEntry;
  getRun(runId: string): RunEntry | null;
  /** Newest first. */
  listRuns(page: PageRequest): Page<RunEntry>;
  /** Drops index entries whose run directory is gone. */
  removeRun(runId: string): void;

  createItem(name: string, spec: ProblemSpec): Item;
  /** The latest version, or the given one. */
  getItem(id: string, version?: number): Item | null;
  /** Newest first. */
  listItems(page: PageRequest): Page<Item>;
  /** A new version; null when the item does not exist. */
  updateItem(id: string, name: string, spec: ProblemSpec): Item | null;
  /** Removes the item and all its versions; false when it did not exist. */
  deleteItem(id: string): boolean;

  close(): void;
}

/** Item ids are random and opaque; the pattern is checked before any lookup. */
export const ITEM_ID_PATTERN = /^item_[0-9a-f]{32}$/;
/** Cursors are opaque to clients; ours are decimal sequence numbers. */
export const CURSOR_PATTERN = /^[0-9]{1,15}$/;
