/**
 * The shared registry's own behaviour over a real PostgreSQL connection: migrations under
 * concurrent starts, objects in bounded pieces re-hashed on read, a run published in a few
 * batched queries (and by several publishers at once), and a run published on one machine
 * materialized on another, with a tampered or hostile row caught before anything is
 * written. Skipped, saying so, when PostgreSQL does not answer (test/helpers/services.ts).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runJob } from "../../src/app/run/run-job.js";
import { replayRunDirectory } from "../../src/app/verify/replay.js";
import { verifyRunDirectory } from "../../src/app/verify/verify.js";
import { sha256Hex } from "../../src/core/canonical.js";
import { CanonError } from "../../src/core/errors.js";
import { MIGRATIONS } from "../../src/registry/migrations.js";
import { checkRegistryUrl } from "../../src/registry/open.js";
import { CHUNK_BYTES } from "../../src/registry/pg-objects.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { DEMO_CORPUS } from "../helpers/cli.js";
import { needPostgres, PG_ADMIN_URL, scratchDatabase } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";

const available = await needPostgres();
const url = available ? await scratchDatabase("pg") : "";

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    return error instanceof CanonError
      ? { code: error.code, exit: error.exitCode, message: error.message }
      : error;
  }
  return "no error";
};

describe("registry URLs", () => {
  it("refuses what is not a postgres URL naming a host and a database, before connecting", () => {
    for (const bad of [
      "",
      "not a url",
      "http://127.0.0.1/test",
      "sqlite:///tmp/x.db",
      "postgres://127.0.0.1",
      "postgres://127.0.0.1/",
      `postgres://127.0.0.1/${"x".repeat(5000)}`,
      "postgres://[::1/test",
    ])
      expect(() => checkRegistryUrl(bad), bad).toThrow(
        expect.objectContaining({ code: "E_REGISTRY_URL", exitCode: 2 }),
      );
    expect(() => checkRegistryUrl("postgresql://root@127.0.0.1:5432/test")).not.toThrow();
  });
});

describe.skipIf(!available)("PostgreSQL registry", () => {
  let registry: PgRegistry;
  beforeAll(async () => {
    registry = await PgRegistry.connect(url);
  });
  afterAll(async () => {
    await registry?.close();
  });

  it("applies each migration once, however many processes start at the same moment", async () => {
    const starts = await Promise.all([1, 2, 3, 4, 5].map(() => PgRegistry.connect(url)));
    await Promise.all(starts.map((r) => r.close()));
    const rows = await sql<{ version: number }>("SELECT version FROM cr_migrations ORDER BY version");
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it("refuses a schema newer than it knows, as bad input", async () => {
    const newer = await scratchDatabase("newer");
    const client = new pg.Client({ connectionString: newer });
    await client.connect();
    await client.query(
      "CREATE TABLE cr_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    );
    await client.query("INSERT INTO cr_migrations (version, name) VALUES (999, 'from the future')");
    await client.end();
    expect(await codeOf(PgRegistry.connect(newer))).toMatchObject({ code: "E_REGISTRY_URL", exit: 2 });
  });

  it("says plainly when the server does not answer (exit 3) or refuses the database (exit 2)", async () => {
    expect(await codeOf(PgRegistry.connect("postgres://root@127.0.0.1:1/test"))).toMatchObject({
      code: "E_REGISTRY_UNAVAILABLE",
      exit: 3,
    });
    const missing = new URL(PG_ADMIN_URL);
    missing.pathname = "/cr_test_no_such_database";
    expect(await codeOf(PgRegistry.connect(missing.toString()))).toMatchObject({
      code: "E_REGISTRY_URL",
      exit: 2,
    });
  });

  it("stores a large object in bounded pieces and re-hashes it on read", async () => {
    const bytes = Buffer.alloc(Math.floor(CHUNK_BYTES * 2.5));
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251;
    const hash = await registry.putObject(bytes);
    expect(hash).toBe(sha256Hex(bytes));
    expect(await registry.putObject(bytes)).toBe(hash);
    const pieces = await sql<{ n: number; size: number }>(
      "SELECT n, length(bytes) AS size FROM cr_object_chunks WHERE sha256 = $1 ORDER BY n",
      [hash],
    );
    expect(pieces.map((p) => p.size)).toEqual([CHUNK_BYTES, CHUNK_BYTES, bytes.length - 2 * CHUNK_BYTES]);
    // Compressed with lz4 where the server has it (half the server's CPU of pglz on writing).
    const [{ lz4 } = { lz4: false }] = await sql<{ lz4: boolean }>(
      "SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'",
    );
    const methods = await sql<{ method: string }>(
      "SELECT DISTINCT pg_column_compression(bytes) AS method FROM cr_object_chunks WHERE sha256 = $1",
      [hash],
    );
    expect(methods.map((m) => m.method)).toEqual([lz4 ? "lz4" : "pglz"]);
    expect(Buffer.compare(Buffer.from((await registry.getObject(hash)) ?? []), bytes)).toBe(0);
    expect(await registry.getObject("0".repeat(64))).toBeNull();
    const empty = await registry.putObject(new Uint8Array());
    expect((await registry.getObject(empty))?.length).toBe(0);

    // One flipped byte in one piece, then a missing piece: both are caught, never returned.
    await sql(
      "UPDATE cr_object_chunks SET bytes = set_byte(bytes, 7, get_byte(bytes, 7) # 1) WHERE sha256 = $1 AND n = 1",
      [hash],
    );
    expect(await codeOf(registry.getObject(hash))).toMatchObject({ code: "E_INTEGRITY", exit: 1 });
    await sql("DELETE FROM cr_object_chunks WHERE sha256 = $1 AND n = 2", [hash]);
    expect(await codeOf(registry.getObject(hash))).toMatchObject({ code: "E_INTEGRITY" });
  });

  describe("a run published on one machine", () => {
    let runId: string;
    beforeAll(async () => {
      const made = tempDir();
      const result = await runJob({
        spec: { version: "1", description: "What causes tides?", constraints: { corpus: DEMO_CORPUS } },
        preset: "default",
        seed: 0,
        artifactsRoot: made,
      });
      runId = result.runId;
      await registry.addRun(
        { run_id: runId, item_id: null, item_version: null },
        { runDir: result.runDir, storeRoot: made },
      );
    });

    it("is materialized on another, where it verifies and replays", async () => {
      const cache = tempDir();
      const runDir = await registry.materializeRun(runId, cache);
      expect(runDir).toBe(join(cache, "runs", runId));
      expect(verifyRunDirectory(runDir as string, { policy: "strict", storeRoot: cache }).verdict).toBe(
        "pass",
      );
      expect((await replayRunDirectory(runDir as string, cache, "live")).identical).toBe(true);
      // Publishing again (a retry, another machine) changes nothing.
      await registry.addRun({ run_id: runId, item_id: null, item_version: null });
      expect((await registry.listRuns({ limit: 10 })).entries.filter((e) => e.run_id === runId)).toHaveLength(
        1,
      );
      expect(await registry.materializeRun(`run_v1_${"f".repeat(64)}`, cache)).toBeNull();
      expect(await registry.materializeRun("../../etc", cache)).toBeNull();
    });

    it("is published in a handful of queries, and at once by many publishers without a conflict", async () => {
      const made = tempDir();
      const result = await runJob({
        spec: { version: "1", description: "Why is the sky blue?", constraints: { corpus: DEMO_CORPUS } },
        preset: "default",
        seed: 0,
        artifactsRoot: made,
      });
      const from = { runDir: result.runDir, storeRoot: made };
      const entry = { run_id: result.runId, item_id: null, item_version: null };
      // Batched: the missing-object lookup, the object writes and the index entry in one
      // transaction, not a few queries per file (a run has over ten files).
      const counted = vi.spyOn(pg.Client.prototype, "query");
      try {
        await registry.addRun(entry, from);
        expect(counted.mock.calls.length).toBeLessThanOrEqual(7);
      } finally {
        counted.mockRestore();
      }
      await sql("DELETE FROM cr_runs WHERE run_id = $1", [result.runId]);
      await sql("DELETE FROM cr_run_files WHERE run_id = $1", [result.runId]);
      // Several machines publish the same run and the same large object at the same moment:
      // every one succeeds, each row exists once, and the run still materializes and verifies.
      const big = Buffer.alloc(CHUNK_BYTES * 9 + 5);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 253;
      const publishers = await Promise.all(Array.from({ length: 5 }, () => PgRegistry.connect(url)));
      // The large object's bytes are sent once: the others wait for its writer's commit.
      const sent = vi.spyOn(pg.Client.prototype, "query");
      try {
        const entries = await Promise.all(
          publishers.flatMap((p) => [p.addRun(entry, from), p.putObject(big).then(() => null)]),
        );
        const published = entries.filter((e) => e !== null);
        expect(published).toHaveLength(5);
        expect(new Set(published.map((e) => e.registered_at)).size).toBe(1);
        const chunkBytes = sent.mock.calls
          .filter(([text]) => String(text).includes("INSERT INTO cr_object_chunks"))
          .flatMap(([, values]) => ((values as unknown[][] | undefined)?.[2] ?? []) as unknown[])
          .reduce<number>((n, v) => n + (Buffer.isBuffer(v) ? v.length : 0), 0);
        expect(chunkBytes).toBe(big.length);
      } finally {
        sent.mockRestore();
        await Promise.all(publishers.map((p) => p.close()));
      }
      expect(await sql("SELECT 1 FROM cr_runs WHERE run_id = $1", [result.runId])).toHaveLength(1);
      const [pieces] = await sql<{ n: string }>(
        "SELECT count(*)::text AS n FROM cr_object_chunks WHERE sha256 = $1",
        [sha256Hex(big)],
      );
      expect(pieces?.n).toBe("10");
      expect(Buffer.compare(Buffer.from((await registry.getObject(sha256Hex(big))) ?? []), big)).toBe(0);
      const cache = tempDir();
      const runDir = (await registry.materializeRun(result.runId, cache)) as string;
      expect(verifyRunDirectory(runDir, { policy: "strict", storeRoot: cache }).verdict).toBe("pass");
    });

    it("is refused, with nothing written, when a row was tampered with", async () => {
      const [row] = await sql<{ sha256: string }>(
        "SELECT sha256 FROM cr_run_files WHERE run_id = $1 AND path = 'answer.json'",
        [runId],
      );
      const hash = (row as { sha256: string }).sha256;
      const original = await sql<{ bytes: Buffer }>("SELECT bytes FROM cr_object_chunks WHERE sha256 = $1", [
        hash,
      ]);
      await sql(
        "UPDATE cr_object_chunks SET bytes = set_byte(bytes, 0, get_byte(bytes, 0) # 1) WHERE sha256 = $1",
        [hash],
      );
      const cache = tempDir();
      expect(await codeOf(registry.materializeRun(runId, cache))).toMatchObject({
        code: "E_INTEGRITY",
        exit: 1,
      });
      expect(existsSync(join(cache, "runs", runId))).toBe(false);
      await sql("UPDATE cr_object_chunks SET bytes = $2 WHERE sha256 = $1", [hash, original[0]?.bytes]);
      expect(await registry.materializeRun(runId, cache)).not.toBeNull();
    });

    it("never writes outside the cache for a hostile file path", async () => {
      for (const path of [
        "../escape.txt",
        "/etc/passwd",
        "evidence/../../x",
        "volatile/timings.json",
        ".hidden",
        "a//b",
      ]) {
        await sql(
          "INSERT INTO cr_run_files (run_id, path, sha256) SELECT $1, $2, sha256 FROM cr_run_files WHERE run_id = $1 LIMIT 1",
          [runId, path],
        );
        const cache = tempDir();
        const outcome = await codeOf(registry.materializeRun(runId, join(cache, "inner")));
        expect(outcome, path).toMatchObject({
          code: "E_INTEGRITY",
          message: expect.stringContaining("not a run file name"),
        });
        expect(readdirSync(cache), path).toEqual([]);
        await sql("DELETE FROM cr_run_files WHERE run_id = $1 AND path = $2", [runId, path]);
      }
    });
  });
});
