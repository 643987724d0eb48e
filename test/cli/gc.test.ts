/**
 * `canon-reason gc` (issue 21, item 3): removes store objects that no run, ref or item names;
 * `--dry-run` only counts; `--prune-cache` also drops cache refs no run or item needs; nothing
 * modified or used within `--grace` goes, so a run in progress keeps what it needs (hostile: a
 * run racing a loop of collections still verifies). Bad input is exit 2, cleanly.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/core/canonical.js";
import { SqliteRegistry } from "../../src/registry/sqlite.js";
import { DEMO_CORPUS, isCleanError, runCli, runCliAsync } from "../helpers/cli.js";
import { demoRun, demoRunAsync } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

const ENV = { CANON_REASON_DATABASE_URL: "" };

function objects(root: string): string[] {
  const base = join(root, "store", "sha256");
  return readdirSync(base)
    .flatMap((s) => readdirSync(join(base, s)).map((r) => s + r))
    .sort();
}

/** Every file under store/ as if last used two hours ago. */
function age(root: string, hours = 2): void {
  const then = new Date(Date.now() - hours * 3600_000);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else utimesSync(path, then, then);
    }
  };
  walk(join(root, "store"));
}

const gc = (root: string, ...flags: string[]) => {
  const r = runCli(["gc", "--artifacts-dir", root, "--json", ...flags], { env: ENV });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

const runDemo = (root: string, question: string) => demoRun({ root, question, env: ENV }).runId;

const verify = (root: string, runId: string) => runCli(["verify", join(root, "runs", runId)], { env: ENV });

describe("issue 21 item 3: canon-reason gc", () => {
  it("item 3: an orphan goes, what runs and refs name stays; --dry-run removes nothing", () => {
    const root = tempDir("canon-gc-");
    const runId = runDemo(root, "What causes tides?");
    const orphan = randomBytes(64);
    const hash = sha256Hex(orphan);
    mkdirSync(join(root, "store", "sha256", hash.slice(0, 2)), { recursive: true });
    writeFileSync(join(root, "store", "sha256", hash.slice(0, 2), hash.slice(2)), orphan, { flag: "wx" });
    const before = objects(root);
    age(root);
    const dry = gc(root, "--dry-run");
    expect(dry).toMatchObject({ dry_run: true, runs: 1, objects_removed: 1, bytes_removed: 64 });
    expect(objects(root)).toEqual(before);
    const real = gc(root);
    expect(real).toMatchObject({ dry_run: false, objects_removed: 1 });
    expect(objects(root)).toEqual(before.filter((h) => h !== hash));
    expect(verify(root, runId).status).toBe(0);
    // Idempotent.
    expect(gc(root)).toMatchObject({ objects_removed: 0 });
  });

  it("item 3: --prune-cache drops an index only a ref named, keeps what runs pin, and frees nothing recent", () => {
    const root = tempDir("canon-gc-prune-");
    const runId = runDemo(root, "What causes tides?");
    // An index with other parameters: named by its cache ref only.
    const indexed = runCli(
      [
        "index",
        DEMO_CORPUS,
        "--artifacts-dir",
        root,
        "--chunk-chars",
        "300",
        "--overlap-chars",
        "0",
        "--json",
      ],
      { env: ENV },
    );
    expect(indexed.status, indexed.stderr).toBe(0);
    const extra = (JSON.parse(indexed.stdout).index_hash as string).replace(/^sha256:/, "");
    expect(objects(root)).toContain(extra);
    // Fresh: within the grace period nothing goes, even with --prune-cache.
    expect(gc(root, "--prune-cache")).toMatchObject({ objects_removed: 0, refs_removed: 0 });
    age(root);
    expect(gc(root)).toMatchObject({ objects_removed: 0 }); // refs keep their targets
    const before = objects(root);
    const dry = gc(root, "--prune-cache", "--dry-run");
    expect(dry.objects_removed).toBeGreaterThan(0);
    expect(objects(root)).toEqual(before);
    const pruned = gc(root, "--prune-cache");
    expect(pruned.objects_removed).toBe(dry.objects_removed);
    expect(objects(root)).not.toContain(extra);
    expect(verify(root, runId).status).toBe(0);
    // The run still answers from what is left (its snapshot and index were kept).
    expect(runDemo(root, "What causes tides?")).toBe(runId);
  });

  it("item 3: an item's sha256: corpus is live even when no run names it", async () => {
    const root = tempDir("canon-gc-items-");
    const indexed = runCli(["index", DEMO_CORPUS, "--artifacts-dir", root, "--json"], { env: ENV });
    expect(indexed.status, indexed.stderr).toBe(0);
    const snapshot = (JSON.parse(indexed.stdout).corpus_snapshot as string).replace(/^sha256:/, "");
    const registry = new SqliteRegistry(root);
    await registry.createItem("pinned", {
      version: "1",
      description: "What causes tides?",
      constraints: { corpus: `sha256:${snapshot}` },
    });
    await registry.close();
    age(root);
    gc(root, "--prune-cache");
    expect(objects(root)).toContain(snapshot);
  });

  it("item 3 (hostile): a run racing repeated collections keeps every object it needs and verifies", async () => {
    const root = tempDir("canon-gc-race-");
    // A snapshot and an index named by cache refs only, last used two hours ago: prunable.
    const chunking = ["--chunk-chars", "300", "--overlap-chars", "0"];
    const indexed = runCli(["index", DEMO_CORPUS, "--artifacts-dir", root, "--json", ...chunking], {
      env: ENV,
    });
    expect(indexed.status, indexed.stderr).toBe(0);
    age(root);
    // The run reuses both (a cache hit) while collections run: its use must protect them.
    const racing = demoRunAsync({ root, question: "What causes tides?", args: chunking, env: ENV });
    const collections: Array<Promise<{ status: number }>> = [];
    for (let i = 0; i < 6; i++)
      collections.push(runCliAsync(["gc", "--artifacts-dir", root, "--prune-cache", "--json"], { env: ENV }));
    // demoRunAsync throws (with its stderr) unless the run exits 0.
    const [{ runId }, done] = await Promise.all([racing, Promise.all(collections)]);
    for (const d of done) expect(d.status).toBe(0);
    const checked = verify(root, runId);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    // Once published, the run itself names them: even a collection with no grace keeps them.
    gc(root, "--prune-cache", "--grace", "0");
    expect(verify(root, runId).status).toBe(0);
  });

  it("item 3: bad input is exit 2 with a clean message", () => {
    const missing = runCli(["gc", "--artifacts-dir", join(tempDir(), "nope")], { env: ENV });
    expect(missing.status).toBe(2);
    expect(isCleanError(missing)).toBe(true);
    expect(missing.stderr).toContain("--artifacts-dir");
    const grace = runCli(["gc", "--artifacts-dir", tempDir(), "--grace", "-1"], { env: ENV });
    expect(grace.status).toBe(2);
    expect(isCleanError(grace)).toBe(true);
    const file = join(tempDir(), "f");
    writeFileSync(file, "x");
    expect(statSync(file).isFile()).toBe(true);
    expect(runCli(["gc", "--artifacts-dir", file], { env: ENV }).status).toBe(2);
  });
});
