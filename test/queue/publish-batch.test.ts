/**
 * Issue 22: a worker publishes its finished jobs' runs in batches (queue/publish-batch.ts,
 * registry/pg-publish.ts). The batcher's rules with a scripted registry (no services): what
 * arrives while a batch is written goes in the next one, a batch never exceeds its bound, a
 * batch failing for one run's sake is written again run by run so the others still succeed, and
 * a registry that is away fails them all at once. Then the batched statement on PostgreSQL: runs,
 * their item versions and job records in one statement, a job twice in a batch recorded once.
 */
import { afterAll, describe, expect, it } from "vitest";
import { CanonError } from "../../src/core/errors.js";
import type { ProblemSpec } from "../../src/core/models/spec.js";
import { readRunDirectory } from "../../src/io/runs/run-reader.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { PublishBatcher } from "../../src/queue/publish-batch.js";
import { Slots } from "../../src/queue/slots.js";
import type { PublishRequest } from "../../src/registry/pg-publish.js";
import { PgRegistry } from "../../src/registry/postgres.js";
import { DEMO_CORPUS } from "../helpers/cli.js";
import { needPostgres, scratchDatabase } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";

const request = (runId: string): PublishRequest => ({
  entry: { run_id: runId, item_id: null, item_version: null },
  files: new Map(),
  store: new DiskStore(tempDir()),
  job: { id: `case-${runId}`, result: {} },
});

/** A registry whose writes wait until released, recording each batch's run ids. */
function scriptedRegistry(fail: (runIds: string[]) => Error | null = () => null) {
  const batches: string[][] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  return {
    batches,
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release: () => release(),
    async publishJobs(requests: readonly PublishRequest[]) {
      const ids = requests.map((r) => r.entry.run_id);
      batches.push(ids);
      await gate;
      const error = fail(ids);
      if (error !== null) throw error;
      return requests.map(() => true);
    },
  };
}

describe("PublishBatcher", () => {
  it("writes the first run at once, and the runs that arrive meanwhile together in the next batch, at most the bound", async () => {
    const registry = scriptedRegistry();
    const batcher = new PublishBatcher(registry, 3);
    registry.hold();
    const first = batcher.publish(request("a"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(registry.batches).toEqual([["a"]]);
    const rest = ["b", "c", "d", "e"].map((id) => batcher.publish(request(id)));
    registry.release();
    const published = await Promise.all([first, ...rest]);
    expect(registry.batches).toEqual([["a"], ["b", "c", "d"], ["e"]]);
    expect(published.map((p) => p.batch.runs)).toEqual([1, 3, 3, 3, 1]);
    expect(published.every((p) => p.recorded)).toBe(true);
    expect(batcher.stats).toEqual({ batches: 3, runs: 5 });
  });

  it("a batch that fails for one run's sake is written again run by run: only that job fails", async () => {
    const bad = new CanonError("E_STORE_MISSING", "store object sha256:… pinned by the run is missing", {
      exitCode: 3,
    });
    const registry = scriptedRegistry((ids) => (ids.includes("bad") ? bad : null));
    const batcher = new PublishBatcher(registry);
    registry.hold();
    const first = batcher.publish(request("a"));
    await new Promise((resolve) => setImmediate(resolve));
    const outcomes = Promise.allSettled(["b", "bad", "c"].map((id) => batcher.publish(request(id))));
    registry.release();
    await first;
    const [b, failed, c] = await outcomes;
    expect(b?.status).toBe("fulfilled");
    expect(c?.status).toBe("fulfilled");
    expect(failed).toMatchObject({ status: "rejected", reason: bad });
    expect(registry.batches).toEqual([["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"]]);
  });

  it("a registry that is away fails every job of the batch at once (each is retried), without writing them one by one", async () => {
    const away = new CanonError("E_REGISTRY_UNAVAILABLE", "the registry does not answer", { exitCode: 3 });
    const registry = scriptedRegistry(() => away);
    const batcher = new PublishBatcher(registry);
    const outcomes = await Promise.allSettled(["a", "b"].map((id) => batcher.publish(request(id))));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(registry.batches).toEqual([["a", "b"]]);
  });
});

describe("Slots", () => {
  it("runs at most its size at once, in order, and frees a slot whether the task succeeds or fails", async () => {
    const slots = new Slots(2);
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const task = (n: number) => async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(n);
      inside--;
      if (n === 1) throw new Error("task 1 fails");
      return n;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => slots.run(task(n))));
    expect(most).toBe(2);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(() => new Slots(0)).toThrow(RangeError);
  });
});

const available = await needPostgres();
const pgUrl = available ? await scratchDatabase("publish_batch") : "";

describe.skipIf(!available)("publishing a batch to PostgreSQL", () => {
  const registries: PgRegistry[] = [];
  afterAll(async () => {
    await Promise.all(registries.map((r) => r.close()));
  });

  it("several runs, an item run's item version, and their job records in one batch; a job twice in it is recorded once; each run reads back and verifies", async () => {
    const { runJob } = await import("../../src/app/run/run-job.js");
    const { verifyRunDirectory } = await import("../../src/app/verify/verify.js");
    const root = tempDir();
    const made = [];
    for (const question of ["What causes tides?", "Why is the sky blue?", "What is a leap year?"])
      made.push(
        await runJob({
          spec: { version: "1", description: question, constraints: { corpus: DEMO_CORPUS } } as ProblemSpec,
          preset: "default",
          seed: 0,
          artifactsRoot: root,
        }),
      );
    const registry = await PgRegistry.connect(pgUrl);
    registries.push(registry);
    const store = new DiskStore(root);
    const requests: PublishRequest[] = made.map((run, i) => ({
      entry: { run_id: run.runId, item_id: i === 0 ? "item_batch" : null, item_version: i === 0 ? 2 : null },
      files: readRunDirectory(run.runDir).files,
      store,
      job: { id: `run-${String(i).repeat(64)}`, result: { run_id: run.runId, created: true } },
    }));
    const again = { ...(requests[1] as PublishRequest) };
    expect(await registry.publishJobs([...requests, again])).toEqual([true, true, true, false]);
    // Published again (a worker that died after the commit, before acknowledging): nothing changes.
    expect(await registry.publishJobs(requests)).toEqual([false, false, false]);
    expect(await registry.runItems(made[0]?.runId as string)).toEqual([
      { item_id: "item_batch", item_version: 2, registered_at: expect.any(String) },
    ]);
    expect((await registry.getRun(made[0]?.runId as string))?.item_id).toBe("item_batch");
    const cache = tempDir();
    for (const run of made) {
      expect(await registry.jobRecord(`run-${String(made.indexOf(run)).repeat(64)}`)).toMatchObject({
        runId: run.runId,
      });
      const runDir = await registry.materializeRun(run.runId, cache);
      expect(runDir).not.toBeNull();
      expect(verifyRunDirectory(runDir as string, { policy: "strict", storeRoot: cache }).verdict).toBe(
        "pass",
      );
    }
  }, 60_000);

  it("a run whose pinned objects the registry lacks and the store does not hold is refused, and nothing of it is written", async () => {
    const { runJob } = await import("../../src/app/run/run-job.js");
    const root = tempDir();
    const run = await runJob({
      spec: {
        version: "1",
        description: "How do plants grow?",
        constraints: { corpus: DEMO_CORPUS },
      } as ProblemSpec,
      preset: "default",
      seed: 7,
      artifactsRoot: root,
    });
    // A fresh database: the registry has no snapshot or index, and the store given is empty.
    const registry = await PgRegistry.connect(await scratchDatabase("publish_batch_missing"));
    registries.push(registry);
    const failure = await registry
      .publishJobs([
        {
          entry: { run_id: run.runId, item_id: null, item_version: null },
          files: readRunDirectory(run.runDir).files,
          store: new DiskStore(tempDir()),
          job: { id: `run-${"7".repeat(64)}`, result: {} },
        },
      ])
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "E_STORE_MISSING" });
    expect(await registry.getRun(run.runId)).toBeNull();
    expect(await registry.jobRecord(`run-${"7".repeat(64)}`)).toBeNull();
  }, 60_000);
});
