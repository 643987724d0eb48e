/**
 * The service's registry (docs/design.md §8): an index of runs for listing and paging, and saved specs
 * ("items") with versions. Run directories and the content-addressed store stay the source of
 * truth: the run index can always be rebuilt from `runs/`. Kept narrow on purpose: the embedded
 * SQLite registry (sqlite.ts) and the shared PostgreSQL one (postgres.ts) implement it, and
 * every method is asynchronous so a networked backend fits without touching the routes.
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

/** One item version a run was produced from (issue 21, item 10): registry data, outside the run. */
export interface RunItemSource {
  item_id: string;
  item_version: number;
  /** When this registry first saw the run made from this item version. */
  registered_at: string;
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

/** A run published on this machine: its directory and the artifacts root whose store holds what it pins. */
export interface LocalRun {
  runDir: string;
  storeRoot: string;
}

export interface Registry {
  /** True when other machines read this registry (PostgreSQL); false for the embedded one. */
  readonly shared: boolean;
  /**
   * Records a published run; a run already indexed keeps its first entry (idempotent). A shared
   * registry also stores the run's files and the store objects it pins (`from`) before the
   * index names it, so another machine can read the run; without `from`, only the entry is written.
   */
  addRun(entry: Omit<RunEntry, "registered_at">, from?: LocalRun): Promise<RunEntry>;
  getRun(runId: string): Promise<RunEntry | null>;
  /**
   * Every item version a run was produced from, oldest first. The run's id is a hash of what it
   * computes, so an item run equal to an earlier ad-hoc run (or to another item's run) is the
   * same run: which items produced it is recorded here, beside the run, and never lost.
   */
  runItems(runId: string): Promise<RunItemSource[]>;
  /** Newest first. */
  listRuns(page: PageRequest): Promise<Page<RunEntry>>;
  /** Drops index entries whose run directory is gone. */
  removeRun(runId: string): Promise<void>;
  /**
   * Brings a run this machine did not make into `cacheRoot` (as `runs/<id>` and the store objects
   * it pins), re-hashing every object it reads, so the one run reader can open it. Null when the
   * registry holds no files for it (always, for a registry that is not shared).
   */
  materializeRun(runId: string, cacheRoot: string): Promise<string | null>;

  createItem(name: string, spec: ProblemSpec): Promise<Item>;
  /** The latest version, or the given one. */
  getItem(id: string, version?: number): Promise<Item | null>;
  /** Newest first. */
  listItems(page: PageRequest): Promise<Page<Item>>;
  /** A new version; null when the item does not exist. */
  updateItem(id: string, name: string, spec: ProblemSpec): Promise<Item | null>;
  /** Removes the item and all its versions; false when it did not exist. */
  deleteItem(id: string): Promise<boolean>;

  close(): Promise<void>;
}

/** Item ids are random and opaque; the pattern is checked before any lookup. */
export const ITEM_ID_PATTERN = /^item_[0-9a-f]{32}$/;
/** Cursors are opaque to clients; ours are decimal sequence numbers. */
export const CURSOR_PATTERN = /^[0-9]{1,15}$/;
