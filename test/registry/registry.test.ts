/**
 * The registry's contract, written once against the interface (STYLE: swappable backends share
 * one test suite): the PostgreSQL implementation will run the same cases.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { ITEM_ID_PATTERN, type Registry } from "../../src/registry/registry.js";
import { REGISTRY_FILE, SqliteRegistry } from "../../src/registry/sqlite.js";
import { tempDir } from "../helpers/tmp.js";

const spec = (q: string): ProblemSpec => ({
  version: "1",
  description: q,
  constraints: { needs_retrieval: false },
});
const runId = (n: number) => `run_v1_${n.toString(16).padStart(64, "0")}`;

const implementations: Array<[string, (root: string) => Registry]> = [
  ["sqlite", (root) => new SqliteRegistry(root)],
];

describe.each(implementations)("registry (%s)", (_name, open) => {
  it("indexes runs once, newest first, in pages", () => {
    const registry = open(tempDir());
    for (let n = 1; n <= 5; n++) registry.addRun({ run_id: runId(n), item_id: null, item_version: null });
    registry.addRun({ run_id: runId(2), item_id: "item_x", item_version: 3 });
    const first = registry.listRuns({ limit: 2 });
    expect(first.entries.map((r) => r.run_id)).toEqual([runId(5), runId(4)]);
    const second = registry.listRuns({ limit: 2, cursor: first.next_cursor ?? "" });
    expect(second.entries.map((r) => r.run_id)).toEqual([runId(3), runId(2)]);
    const third = registry.listRuns({ limit: 2, cursor: second.next_cursor ?? "" });
    expect(third.entries.map((r) => r.run_id)).toEqual([runId(1)]);
    expect(third.next_cursor).toBeNull();
    // The first entry is kept: a second creation does not re-attribute the run.
    expect(registry.getRun(runId(2))?.item_id).toBeNull();
    expect(registry.getRun(runId(9))).toBeNull();
    registry.close();
  });

  it("keeps every version of an item", () => {
    const registry = open(tempDir());
    const item = registry.createItem("first", spec("Why?"));
    expect(item.id).toMatch(ITEM_ID_PATTERN);
    expect(item.version).toBe(1);
    const updated = registry.updateItem(item.id, "second", spec("Why not?"));
    expect(updated?.version).toBe(2);
    expect(registry.getItem(item.id)?.spec.description).toBe("Why not?");
    expect(registry.getItem(item.id, 1)?.name).toBe("first");
    expect(registry.getItem(item.id, 3)).toBeNull();
    registry.createItem("other", spec("How?"));
    expect(registry.listItems({ limit: 10 }).entries.map((i) => i.name)).toEqual(["other", "second"]);
    expect(registry.deleteItem(item.id)).toBe(true);
    expect(registry.deleteItem(item.id)).toBe(false);
    expect(registry.getItem(item.id)).toBeNull();
    expect(registry.updateItem(item.id, "x", spec("x"))).toBeNull();
    registry.close();
  });
});

describe("sqlite registry", () => {
  it("rebuilds the run index from runs/ when the database is deleted, skipping temporary directories", () => {
    const root = tempDir();
    for (const name of [runId(1), runId(2), `.tmp-${runId(3)}-1-ab`, "not-a-run"])
      mkdirSync(join(root, "runs", name), { recursive: true });
    let registry = new SqliteRegistry(root);
    expect(
      registry
        .listRuns({ limit: 10 })
        .entries.map((r) => r.run_id)
        .sort(),
    ).toEqual([runId(1), runId(2)]);
    registry.close();
    for (const f of [REGISTRY_FILE, `${REGISTRY_FILE}-wal`, `${REGISTRY_FILE}-shm`])
      rmSync(join(root, f), { force: true });
    rmSync(join(root, "runs", runId(1)), { recursive: true });
    registry = new SqliteRegistry(root);
    expect(registry.listRuns({ limit: 10 }).entries.map((r) => r.run_id)).toEqual([runId(2)]);
    registry.close();
  });
});
