/**
 * src/app/store/gc.ts (`collectGarbage`) in process against temporary artifacts roots, with its `now`
 * moved forward instead of file times moved back. What a run, an item or (without pruneCache) a
 * cache ref names stays; an orphan goes unless used within the grace period; a dry run only
 * counts; pruneCache drops an index only a ref names; hostile layouts (a damaged run, a folder
 * that is not a run, an object that is a symlink out of the store) neither crash the collection
 * nor make it remove anything outside the store.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/app/store/gc.js";
import { verifyRunDirectory } from "../../src/app/verify/verify.js";
import { sha256Hex } from "../../src/core/canonical.js";
import { SqliteRegistry } from "../../src/registry/sqlite.js";
import { jobRun } from "../helpers/job-run.js";
import { tempDir } from "../helpers/tmp.js";

const LATER = () => Date.now() + 2 * 3600_000;

function objects(root: string): string[] {
  const base = join(root, "store", "sha256");
  return readdirSync(base)
    .flatMap((s) => readdirSync(join(base, s)).map((r) => s + r))
    .sort();
}

/** A store object nothing names; returns its hash. */
function plantOrphan(root: string, bytes: Uint8Array = randomBytes(64)): string {
  const hash = sha256Hex(bytes);
  mkdirSync(join(root, "store", "sha256", hash.slice(0, 2)), { recursive: true });
  writeFileSync(join(root, "store", "sha256", hash.slice(0, 2), hash.slice(2)), bytes);
  return hash;
}

const verifies = (root: string, runDir: string) =>
  verifyRunDirectory(runDir, { policy: "strict", storeRoot: root }).verdict === "pass";

describe("collectGarbage", () => {
  it("a dry run counts the orphan and removes nothing; the real one removes only it; again, nothing", async () => {
    const run = await jobRun();
    const orphan = plantOrphan(run.root);
    const before = objects(run.root);
    const dry = await collectGarbage({ artifactsRoot: run.root, dryRun: true, now: LATER() });
    expect(dry).toMatchObject({
      dry_run: true,
      runs: 1,
      objects: before.length,
      objects_removed: 1,
      bytes_removed: 64,
    });
    expect(objects(run.root)).toEqual(before);
    const real = await collectGarbage({ artifactsRoot: run.root, dryRun: false, now: LATER() });
    expect(real).toMatchObject({ dry_run: false, objects_removed: 1, objects_live: before.length - 1 });
    expect(objects(run.root)).toEqual(before.filter((h) => h !== orphan));
    expect(verifies(run.root, run.runDir)).toBe(true);
    expect(await collectGarbage({ artifactsRoot: run.root, dryRun: false, now: LATER() })).toMatchObject({
      objects_removed: 0,
    });
  });

  it("keeps an orphan used within the grace period, and reports the grace in seconds", async () => {
    const run = await jobRun();
    const orphan = plantOrphan(run.root);
    const report = await collectGarbage({ artifactsRoot: run.root, dryRun: false, graceMs: 60_000 });
    expect(report).toMatchObject({ grace_seconds: 60, objects_removed: 0 });
    expect(report.objects_recent).toBeGreaterThanOrEqual(1);
    expect(objects(run.root)).toContain(orphan);
  });

  it("pruneCache drops an index only a cache ref names, keeps what the run pins, and the run still verifies", async () => {
    const run = await jobRun();
    // A second index (other chunking) whose run is then deleted: only its cache ref names it.
    const other = await jobRun({
      root: run.root,
      corpus: run.corpus,
      constraints: { chunk_chars: 300, overlap_chars: 0 },
    });
    rmSync(other.runDir, { recursive: true });
    const before = objects(run.root);
    const kept = await collectGarbage({ artifactsRoot: run.root, dryRun: false, now: LATER() });
    expect(kept.objects_removed).toBe(0); // without pruneCache a ref's target is live
    const pruned = await collectGarbage({
      artifactsRoot: run.root,
      dryRun: false,
      now: LATER(),
      pruneCache: true,
    });
    expect(pruned.refs_removed).toBeGreaterThanOrEqual(1);
    expect(pruned.objects_removed).toBeGreaterThanOrEqual(1);
    expect(objects(run.root).length).toBe(before.length - pruned.objects_removed);
    expect(verifies(run.root, run.runDir)).toBe(true);
  });

  it("an item's sha256: corpus is live though no run names it", async () => {
    const root = tempDir();
    const snapshot = plantOrphan(root);
    const registry = new SqliteRegistry(root);
    try {
      await registry.createItem("pinned", {
        version: "1",
        description: "What causes tides?",
        constraints: { corpus: `sha256:${snapshot}` },
      });
      const report = await collectGarbage({
        artifactsRoot: root,
        dryRun: false,
        now: LATER(),
        registries: [registry],
      });
      expect(report).toMatchObject({ items: 1, objects_removed: 0 });
    } finally {
      await registry.close();
    }
    expect(objects(root)).toEqual([snapshot]);
  });

  it("hostile layouts: a damaged run keeps what its bytes name, a non-run folder is not a run, a symlinked object's target survives", async () => {
    const run = await jobRun();
    // A run whose run.json does not parse: everything its other files name stays (over-inclusive).
    const named = plantOrphan(run.root);
    const damaged = join(run.root, "runs", `run_v1_${"f".repeat(64)}`);
    mkdirSync(damaged);
    writeFileSync(join(damaged, "run.json"), "{ not json");
    writeFileSync(join(damaged, "spec.json"), JSON.stringify({ corpus: `sha256:${named}` }));
    // Not run ids: never counted as runs, never read.
    mkdirSync(join(run.root, "runs", "notes"));
    writeFileSync(join(run.root, "runs", "README"), "x");
    // An "object" that is a symlink to a file outside the store.
    const outside = join(tempDir(), "precious.txt");
    writeFileSync(outside, "keep me");
    const fake = "e".repeat(64);
    mkdirSync(join(run.root, "store", "sha256", fake.slice(0, 2)), { recursive: true });
    symlinkSync(outside, join(run.root, "store", "sha256", fake.slice(0, 2), fake.slice(2)));
    // Store entries that are not objects: a foreign shard name and a temporary.
    mkdirSync(join(run.root, "store", "sha256", "zz"));
    writeFileSync(join(run.root, "store", "sha256", "zz", "x"), "x");

    const report = await collectGarbage({ artifactsRoot: run.root, dryRun: false, now: LATER() });
    expect(report.runs).toBe(2);
    expect(objects(run.root)).toContain(named);
    expect(existsSync(outside)).toBe(true);
    expect(existsSync(join(run.root, "store", "sha256", "zz", "x"))).toBe(true);
    expect(verifies(run.root, run.runDir)).toBe(true);
  });

  it("an artifacts root with no store or runs yet collects nothing and does not fail", async () => {
    const report = await collectGarbage({ artifactsRoot: tempDir(), dryRun: false, now: LATER() });
    expect(report).toMatchObject({ runs: 0, refs: 0, objects: 0, objects_removed: 0 });
  });
});
