// Publishing cost (issue 22): what it costs a queue worker to publish one job's run to the
// PostgreSQL registry, per run, with 1 and 4 publishers at once (as 4 workers would), for
//   addRun + recordJob   the path workers took before (a transaction of ~7 queries, and the
//                        pinned snapshot and index re-read from disk and re-hashed per run)
//   publishJob           a by-hash check, then one statement (objects, files, pins, entry, record)
//   publishJobs ×B       the batched path a worker now takes (queue/publish-batch.ts): B runs,
//                        read once with only run.json parsed, in one statement and one commit;
//                        per run = the batch's time / B
// and with `synchronous_commit` on (the default) and off, to show what waiting for
// the WAL flush costs. Off, a PostgreSQL crash may lose the last few hundred milliseconds of
// commits that were already acknowledged: a job then completed in Redis would name a run the
// registry lacks; the default stays on.
//
// Runs: the extractive reasoner over the demo corpus, one question, seeds 0..RUNS-1 (each its
// own run id). Needs PostgreSQL (CANON_BENCH_PG); each variant gets a scratch database.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { runJob } from "../dist/app/run/run-job.js";
import { readRunDirectory } from "../dist/io/runs/run-reader.js";
import { DiskStore } from "../dist/io/store/content-store.js";
import { PgRegistry } from "../dist/registry/postgres.js";
import { machine, REPO, summarize, writeResult } from "./lib.mjs";

const PG_ADMIN_URL = process.env.CANON_BENCH_PG ?? "postgres://root@127.0.0.1:5432/test";
const RUNS = Number(process.env.CANON_BENCH_PUBLISH_RUNS ?? 120);

async function admin(sql) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const root = mkdtempSync(join(tmpdir(), "canon-bench-publish-"));
const startLoad = loadavg();
const runs = [];
for (let seed = 0; seed < RUNS; seed++)
  runs.push(
    await runJob({
      spec: {
        version: "1",
        description: "What causes tides?",
        constraints: { corpus: join(REPO, "demo", "corpus") },
      },
      preset: "default",
      seed,
      artifactsRoot: root,
    }),
  );

async function variant(name, { publishers, method, synchronousCommit, batch = 1 }) {
  const database = `cr_bench_publish_${process.pid}_${randomBytes(3).toString("hex")}`;
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  if (!synchronousCommit) url.searchParams.set("options", "-c synchronous_commit=off");
  const registries = await Promise.all(
    Array.from({ length: publishers }, () => PgRegistry.connect(url.toString())),
  );
  try {
    // The snapshot and index are in the registry before the first job (the submitter put them).
    await registries[0].addRun(
      { run_id: runs[0].runId, item_id: null, item_version: null },
      { runDir: runs[0].runDir, storeRoot: root },
    );
    const samples = [];
    let next = 1;
    const t0 = performance.now();
    await Promise.all(
      registries.map(async (registry, w) => {
        const store = new DiskStore(root);
        for (let i = next; i < runs.length; i = next) {
          next += batch;
          const taken = runs.slice(i, Math.min(i + batch, runs.length));
          const started = performance.now();
          if (method === "publishJobs")
            await registry.publishJobs(
              taken.map((run, k) => ({
                entry: { run_id: run.runId, item_id: null, item_version: null },
                files: readRunDirectory(run.runDir).files,
                store,
                job: { id: `case-${w}-${i + k}`, result: { run_id: run.runId } },
              })),
            );
          else {
            const [run] = taken;
            const entry = { run_id: run.runId, item_id: null, item_version: null };
            const from = { runDir: run.runDir, storeRoot: root };
            const job = { id: `case-${w}-${i}`, result: { run_id: run.runId } };
            if (method === "publishJob") await registry.publishJob(entry, from, job);
            else {
              await registry.addRun(entry, from);
              await registry.recordJob(job.id, run.runId, job.result);
            }
          }
          const perRun = (performance.now() - started) / taken.length;
          for (const _ of taken) samples.push(perRun);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.error(`publish-cost: ${name}: p50 ${summarize(samples).p50_ms} ms`);
    return {
      name,
      publishers,
      method,
      batch,
      synchronous_commit: synchronousCommit,
      per_run_ms: summarize(samples),
      runs_per_s: Math.round(((runs.length - 1) / seconds) * 10) / 10,
    };
  } finally {
    await Promise.all(registries.map((r) => r.close()));
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

const results = [];
try {
  for (const publishers of [1, 4]) {
    const on = { publishers, synchronousCommit: true };
    const off = { publishers, synchronousCommit: false };
    results.push(await variant(`addRun+recordJob x${publishers}`, { ...on, method: "addRun" }));
    results.push(await variant(`publishJob x${publishers}`, { ...on, method: "publishJob" }));
    for (const batch of [1, 4, 16]) {
      results.push(
        await variant(`publishJobs x${publishers} batch ${batch}`, { ...on, method: "publishJobs", batch }),
      );
      results.push(
        await variant(`publishJobs x${publishers} batch ${batch}, synchronous_commit off`, {
          ...off,
          method: "publishJobs",
          batch,
        }),
      );
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const p50 = (name) => results.find((r) => r.name === name)?.per_run_ms.p50_ms ?? null;
const result = {
  bench: "publish-cost",
  machine: { ...machine(), loadavg_at_start: startLoad.map((x) => Math.round(x * 100) / 100) },
  sizes: { runs: RUNS, publishers: [1, 4], batches: [1, 4, 16] },
  seeds: { run_seeds: `0..${RUNS - 1}` },
  results,
  // Per run, at 4 publishers: one run per statement, and batches of 4 (what a worker's batch holds
  // when several of its jobs finish while one is being written).
  target: {
    publish_p50_ms_at_4: 5,
    met_unbatched: (p50("publishJobs x4 batch 1") ?? Infinity) <= 5,
    met_batch_4: (p50("publishJobs x4 batch 4") ?? Infinity) <= 5,
  },
  figures: {
    old_p50_ms_4: p50("addRun+recordJob x4"),
    publish_job_p50_ms_4: p50("publishJob x4"),
    batch1_p50_ms_1: p50("publishJobs x1 batch 1"),
    batch1_p50_ms_4: p50("publishJobs x4 batch 1"),
    batch4_p50_ms_4: p50("publishJobs x4 batch 4"),
    batch16_p50_ms_4: p50("publishJobs x4 batch 16"),
    batch1_p50_ms_4_sync_off: p50("publishJobs x4 batch 1, synchronous_commit off"),
    batch16_p50_ms_4_sync_off: p50("publishJobs x4 batch 16, synchronous_commit off"),
  },
};
console.log(`wrote ${writeResult("publish-cost", result)}`);
