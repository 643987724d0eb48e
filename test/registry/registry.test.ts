/**
 * The registry's contract, written once against the interface (CONTRIBUTING.md "Swappable backends
 * share one test suite"): the embedded SQLite registry and, when PostgreSQL answers, the shared one.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { ITEM_ID_PATTERN, type Registry } from "../../src/registry/run-registry.js";
import { REGISTRY_FILE, SqliteRegistry } from "../../src/registry/sqlite.js";
import { needPostgres, scratchDatabase } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";

const spec = (q: string): ProblemSpec => ({
  version: "1",
  description: q,
  constraints: { needs_retrieval: false },
});
const runId = (n: number) => `run_v1_${n.toString(16).padStart(64, "0")}`;

const implementations: Array<[string, (root: string) => Promise<Registry>]> = [
  ["sqlite", async (root) => new SqliteRegistry(root)],
];
if (await needPostgres()) {
  const url = await scratchDatabase("contract");
  implementations.push([
    "postgres",
    async () => {
      const registry = await PgRegistry.connect(url);
      // Every case starts from an empty registry, as a fresh SQLite file does.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(
        "TRUNCATE cr_runs, cr_run_items, cr_items, cr_item_versions RESTART IDENTITY CASCADE",
      );
      await client.end();
      return registry;
    },
  ]);
}

describe.each(implementations)("registry (%s)", (_name, open) => {
  it("indexes runs once, newest first, in pages", async () => {
    const registry = await open(tempDir());
    for (let n = 1; n <= 5; n++)
      await registry.addRun({ run_id: runId(n), item_id: null, item_version: null });
    await registry.addRun({ run_id: runId(2), item_id: "item_x", item_version: 3 });
    const first = await registry.listRuns({ limit: 2 });
    expect(first.entries.map((r) => r.run_id)).toEqual([runId(5), runId(4)]);
    const second = await registry.listRuns({ limit: 2, cursor: first.next_cursor ?? "" });
    expect(second.entries.map((r) => r.run_id)).toEqual([runId(3), runId(2)]);
    const third = await registry.listRuns({ limit: 2, cursor: second.next_cursor ?? "" });
    expect(third.entries.map((r) => r.run_id)).toEqual([runId(1)]);
    expect(third.next_cursor).toBeNull();
    // The first entry is kept: a second creation does not re-attribute the run.
    expect((await registry.getRun(runId(2)))?.item_id).toBeNull();
    // Issue 21 item 10: but the item version that produced it again is recorded, once, in order.
    await registry.addRun({ run_id: runId(2), item_id: "item_x", item_version: 3 });
    await registry.addRun({ run_id: runId(2), item_id: "item_y", item_version: 1 });
    expect(
      (await registry.runItems(runId(2))).map((s) => [s.item_id, s.item_version, typeof s.registered_at]),
    ).toEqual([
      ["item_x", 3, "string"],
      ["item_y", 1, "string"],
    ]);
    expect(await registry.runItems(runId(1))).toEqual([]);
    expect(await registry.getRun(runId(9))).toBeNull();
    await registry.removeRun(runId(3));
    expect((await registry.listRuns({ limit: 10 })).entries.map((r) => r.run_id)).toEqual(
      [5, 4, 2, 1].map(runId),
    );
    // An entry without files brings nothing to materialize.
    expect(await registry.materializeRun(runId(1), tempDir())).toBeNull();
    await registry.close();
  });

  it("keeps every version of an item", async () => {
    const registry = await open(tempDir());
    const item = await registry.createItem("first", spec("Why?"));
    expect(item.id).toMatch(ITEM_ID_PATTERN);
    expect(item.version).toBe(1);
    const updated = await registry.updateItem(item.id, "second", spec("Why not?"));
    expect(updated?.version).toBe(2);
    expect((await registry.getItem(item.id))?.spec.description).toBe("Why not?");
    expect((await registry.getItem(item.id, 1))?.name).toBe("first");
    expect(await registry.getItem(item.id, 3)).toBeNull();
    await registry.createItem("other", spec("How?"));
    expect((await registry.listItems({ limit: 10 })).entries.map((i) => i.name)).toEqual(["other", "second"]);
    expect(await registry.deleteItem(item.id)).toBe(true);
    expect(await registry.deleteItem(item.id)).toBe(false);
    expect(await registry.getItem(item.id)).toBeNull();
    expect(await registry.updateItem(item.id, "x", spec("x"))).toBeNull();
    await registry.close();
  });

  it("numbers concurrent updates of one item without a gap or a clash", async () => {
    const registry = await open(tempDir());
    const item = await registry.createItem("v", spec("Why?"));
    // 12 at once: enough that an update usually reads back after another one has committed.
    const updates = Array.from({ length: 12 }, (_, i) => i + 1);
    const versions = await Promise.all(
      updates.map((n) => registry.updateItem(item.id, `v${n}`, spec(`Why ${n}?`))),
    );
    expect(versions.map((v) => v?.version ?? 0).sort((a, b) => a - b)).toEqual(updates.map((n) => n + 1));
    // Each call answers with the version it made, not whichever is newest when it reads back.
    expect(versions.map((v) => v?.name)).toEqual(updates.map((n) => `v${n}`));
    await registry.close();
  });
});

describe("sqlite registry", () => {
  it("rebuilds the run index from runs/ when the database is deleted, skipping temporary directories", async () => {
    const root = tempDir();
    for (const name of [runId(1), runId(2), `.tmp-${runId(3)}-1-ab`, "not-a-run"])
      mkdirSync(join(root, "runs", name), { recursive: true });
    let registry = new SqliteRegistry(root);
    expect((await registry.listRuns({ limit: 10 })).entries.map((r) => r.run_id).sort()).toEqual([
      runId(1),
      runId(2),
    ]);
    await registry.close();
    for (const f of [REGISTRY_FILE, `${REGISTRY_FILE}-wal`, `${REGISTRY_FILE}-shm`])
      rmSync(join(root, f), { force: true });
    rmSync(join(root, "runs", runId(1)), { recursive: true });
    registry = new SqliteRegistry(root);
    expect((await registry.listRuns({ limit: 10 })).entries.map((r) => r.run_id)).toEqual([runId(2)]);
    await registry.close();
  });
});
