/**
 * The registry in an embedded SQLite database at `<artifacts>/registry.sqlite` (better-sqlite3,
 * synchronous, WAL). On open, the run index is reconciled with `runs/`: a published run that
 * is missing from the index (the database was deleted, or the process died between publishing
 * and indexing) is added, and an entry whose directory is gone is dropped. Run directories
 * stay the truth; the index only orders and pages them. The database calls are synchronous;
 * the methods are async only to share the Registry interface with the networked backend.
 */
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ID_PATTERN } from "../core/canonical.js";
import type { ProblemSpec } from "../core/models/spec.js";
import { runsRoot } from "../io/runs/run-writer.js";
import { afterCursor, type ItemRow, pageOf, type RunRow, toItem, toRun } from "./rows.js";
import type { Item, LocalRun, Page, PageRequest, Registry, RunEntry, RunItemSource } from "./run-registry.js";

export const REGISTRY_FILE = "registry.sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL UNIQUE,
  registered_at TEXT NOT NULL,
  item_id TEXT,
  item_version INTEGER
);
CREATE TABLE IF NOT EXISTS run_items (
  run_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  item_version INTEGER NOT NULL,
  registered_at TEXT NOT NULL,
  PRIMARY KEY (run_id, item_id, item_version)
);
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS item_versions (
  item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (item_id, version)
);
`;

export class SqliteRegistry implements Registry {
  readonly shared = false;
  private readonly db: Database.Database;
  private readonly now: () => Date;

  constructor(
    readonly artifactsRoot: string,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.db = new Database(join(artifactsRoot, REGISTRY_FILE));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    this.reconcileRuns();
  }

  /** Adds published runs the index lacks (oldest first, by mtime) and drops entries whose run is gone. */
  reconcileRuns(): { added: number; removed: number } {
    const root = runsRoot(this.artifactsRoot);
    const onDisk = new Map<string, number>();
    if (existsSync(root)) {
      for (const name of readdirSync(root)) {
        // Temporary and trash directories (".tmp-", ".trash-") never match: nothing partial is listed.
        if (!ID_PATTERN.test(name) || !name.startsWith("run_")) continue;
        try {
          const st = lstatSync(join(root, name));
          if (st.isDirectory()) onDisk.set(name, st.mtimeMs);
        } catch {
          // Moved away between listing and stat: not a run any more.
        }
      }
    }
    const indexed = new Set(
      (this.db.prepare("SELECT run_id FROM runs").all() as Array<{ run_id: string }>).map((r) => r.run_id),
    );
    const missing = [...onDisk]
      .filter(([id]) => !indexed.has(id))
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    const gone = [...indexed].filter((id) => !onDisk.has(id));
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO runs (run_id, registered_at, item_id, item_version) VALUES (?, ?, NULL, NULL)",
    );
    const remove = this.db.prepare("DELETE FROM runs WHERE run_id = ?");
    this.db.transaction(() => {
      for (const [id, mtime] of missing) insert.run(id, new Date(mtime).toISOString());
      for (const id of gone) remove.run(id);
    })();
    return { added: missing.length, removed: gone.length };
  }

  async addRun(entry: Omit<RunEntry, "registered_at">, _from?: LocalRun): Promise<RunEntry> {
    this.db
      .prepare(
        "INSERT OR IGNORE INTO runs (run_id, registered_at, item_id, item_version) VALUES (?, ?, ?, ?)",
      )
      .run(entry.run_id, this.now().toISOString(), entry.item_id, entry.item_version);
    if (entry.item_id !== null && entry.item_version !== null) {
      // The run's entry keeps its first creation; every item version that produced it is listed here.
      this.db
        .prepare(
          "INSERT OR IGNORE INTO run_items (run_id, item_id, item_version, registered_at) VALUES (?, ?, ?, ?)",
        )
        .run(entry.run_id, entry.item_id, entry.item_version, this.now().toISOString());
    }
    return this.runEntry(entry.run_id) as RunEntry;
  }

  async runItems(runId: string): Promise<RunItemSource[]> {
    return this.db
      .prepare(
        "SELECT item_id, item_version, registered_at FROM run_items WHERE run_id = ? ORDER BY registered_at, item_id, item_version",
      )
      .all(runId) as RunItemSource[];
  }

  async getRun(runId: string): Promise<RunEntry | null> {
    return this.runEntry(runId);
  }

  private runEntry(runId: string): RunEntry | null {
    const row = this.db.prepare("SELECT * FROM runs WHERE run_id = ?").get(runId) as RunRow | undefined;
    return row === undefined ? null : toRun(row);
  }

  async listRuns(page: PageRequest): Promise<Page<RunEntry>> {
    const rows = this.db
      .prepare("SELECT * FROM runs WHERE seq < ? ORDER BY seq DESC LIMIT ?")
      .all(afterCursor(page), page.limit + 1) as RunRow[];
    return pageOf(rows, page.limit, toRun);
  }

  async removeRun(runId: string): Promise<void> {
    this.db.prepare("DELETE FROM runs WHERE run_id = ?").run(runId);
  }

  /** This machine's runs are all on disk already: there is nothing to bring in. */
  async materializeRun(): Promise<string | null> {
    return null;
  }

  async createItem(name: string, spec: ProblemSpec): Promise<Item> {
    const id = `item_${randomBytes(16).toString("hex")}`;
    const at = this.now().toISOString();
    this.db.transaction(() => {
      this.db.prepare("INSERT INTO items (id, created_at) VALUES (?, ?)").run(id, at);
      this.db
        .prepare(
          "INSERT INTO item_versions (item_id, version, name, spec, updated_at) VALUES (?, 1, ?, ?, ?)",
        )
        .run(id, name, JSON.stringify(spec), at);
    })();
    return this.item(id) as Item;
  }

  private static readonly ITEM_SELECT =
    `SELECT i.seq, i.id, i.created_at, v.version, v.name, v.spec, v.updated_at
    FROM items i JOIN item_versions v ON v.item_id = i.id`;

  async getItem(id: string, version?: number): Promise<Item | null> {
    return this.item(id, version);
  }

  private item(id: string, version?: number): Item | null {
    const row = (
      version === undefined
        ? this.db
            .prepare(`${SqliteRegistry.ITEM_SELECT} WHERE i.id = ? ORDER BY v.version DESC LIMIT 1`)
            .get(id)
        : this.db.prepare(`${SqliteRegistry.ITEM_SELECT} WHERE i.id = ? AND v.version = ?`).get(id, version)
    ) as ItemRow | undefined;
    return row === undefined ? null : toItem(row);
  }

  async listItems(page: PageRequest): Promise<Page<Item>> {
    const rows = this.db
      .prepare(
        `${SqliteRegistry.ITEM_SELECT} WHERE i.seq < ? AND v.version = (SELECT MAX(version) FROM item_versions WHERE item_id = i.id)
         ORDER BY i.seq DESC LIMIT ?`,
      )
      .all(afterCursor(page), page.limit + 1) as ItemRow[];
    return pageOf(rows, page.limit, toItem);
  }

  async updateItem(id: string, name: string, spec: ProblemSpec): Promise<Item | null> {
    const updated = this.db.transaction(() => {
      const current = this.db
        .prepare("SELECT MAX(version) AS version FROM item_versions WHERE item_id = ?")
        .get(id) as { version: number | null };
      if (current.version === null) return false;
      this.db
        .prepare(
          "INSERT INTO item_versions (item_id, version, name, spec, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .run(id, current.version + 1, name, JSON.stringify(spec), this.now().toISOString());
      return true;
    })();
    return updated ? this.item(id) : null;
  }

  async deleteItem(id: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM items WHERE id = ?").run(id).changes > 0;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
