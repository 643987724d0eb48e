/**
 * `canon-reason gc`: removes store objects that nothing needs (issue 21, item 3).
 *
 * Live, and never removed: every object a run under `runs/` names (any sha256 in its run.json,
 * trace, manifest or spec: the snapshot and index it pins, whatever else; a run that does not
 * parse keeps everything its bytes name), every object an item version names (a `sha256:`
 * corpus), and, unless `pruneCache`, every cache ref's record and target. With `pruneCache`, a
 * cache ref (`refs/corpus-input/…`, `refs/index/…`) whose target no run or item names is
 * removed too, and with it the quota records of index sets whose index it removed.
 *
 * The rule with runs in progress (decided: a grace period by modification time, no lock):
 * nothing modified or used within `graceMs` (default one hour) is removed. Every use of an
 * object refreshes its mtime — a read from the store, a write that finds it present, a ref
 * followed to it, a warm service request reusing it from memory — so an object a run in
 * progress depends on survives a concurrent gc for as long as that run lasts under the grace
 * period. Each candidate's mtime is read again immediately before it is removed. A use that
 * starts in the instant between that check and the removal finds the object absent: an index is
 * rebuilt, a snapshot is E_STORE_MISSING (exit 2), and a run is never published half-made,
 * since a run is written and verified in a temporary folder and renamed into place whole.
 */
import { lstatSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pinnedObjects } from "../../core/artifact/names.js";
import { ID_PATTERN } from "../../core/canonical.js";
import type { IndexParams } from "../../core/retrieval/index-params.js";
import { indexRefName } from "../../io/index-cache/index-cache.js";
import { openRun } from "../../io/runs/run-reader.js";
import { runsRoot } from "../../io/runs/run-writer.js";
import { sweepRunDebris, sweepStoreDebris } from "../../io/store/debris.js";
import type { Registry } from "../../registry/run-registry.js";
import { IndexPolicy } from "./index-policy.js";

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export interface GcOptions {
  artifactsRoot: string;
  /** Count what would go; remove nothing. */
  dryRun: boolean;
  graceMs?: number;
  /** Also remove cache refs whose target no run or item names. */
  pruneCache?: boolean;
  /** Registries whose items may name store objects (the local one, a shared one). */
  registries?: readonly Registry[];
  now?: number;
}

export interface GcReport {
  dry_run: boolean;
  grace_seconds: number;
  runs: number;
  items: number;
  refs: number;
  refs_removed: number;
  objects: number;
  objects_live: number;
  objects_recent: number;
  objects_removed: number;
  bytes_removed: number;
  index_sets_removed: number;
}

const HEX64_ALL = /[0-9a-f]{64}/g;
const HEX64 = /^[0-9a-f]{64}$/;

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function mtimeOf(path: string): number | null {
  try {
    return lstatSync(path).mtimeMs;
  } catch {
    return null;
  }
}

const hashesIn = (bytes: Uint8Array | undefined, into: Set<string>) => {
  if (bytes === undefined) return;
  for (const m of Buffer.from(bytes).toString("latin1").matchAll(HEX64_ALL)) into.add(m[0]);
};

/** Every object a published run names. */
function runRoots(artifactsRoot: string, live: Set<string>): number {
  let runs = 0;
  for (const name of list(runsRoot(artifactsRoot))) {
    if (!ID_PATTERN.test(name) || !name.startsWith("run_")) continue;
    runs++;
    const opened = openRun(join(runsRoot(artifactsRoot), name));
    if (opened.view.run !== null) for (const hash of pinnedObjects(opened.view.run)) live.add(hash);
    // Over-inclusive on purpose: a damaged run keeps whatever its bytes name.
    for (const [path, bytes] of opened.files)
      if (!path.startsWith("evidence/") && !path.startsWith("volatile/")) hashesIn(bytes, live);
  }
  return runs;
}

/** Every object an item version names. */
async function itemRoots(registries: readonly Registry[], live: Set<string>): Promise<number> {
  let versions = 0;
  for (const registry of registries) {
    let cursor: string | undefined;
    do {
      const page = await registry.listItems({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      for (const latest of page.entries)
        for (let v = 1; v <= latest.version; v++) {
          const item = await registry.getItem(latest.id, v);
          if (item === null) continue;
          versions++;
          hashesIn(Buffer.from(JSON.stringify(item.spec), "utf8"), live);
        }
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }
  return versions;
}

interface Ref {
  path: string;
  record: string | null;
  target: string | null;
}

function readRefs(storeRoot: string): Ref[] {
  const refs: Ref[] = [];
  const base = join(storeRoot, "refs");
  for (const kind of list(base))
    for (const name of list(join(base, kind))) {
      if (!HEX64.test(name)) continue;
      const path = join(base, kind, name);
      let record: string | null = null;
      let target: string | null = null;
      try {
        record = readFileSync(path, "utf8").trim();
        if (!HEX64.test(record)) record = null;
        else {
          const parsed = JSON.parse(
            readFileSync(join(storeRoot, "sha256", record.slice(0, 2), record.slice(2)), "utf8"),
          ) as { target?: unknown };
          target = typeof parsed.target === "string" && HEX64.test(parsed.target) ? parsed.target : null;
        }
      } catch {
        // A ref whose record is unreadable points at nothing.
      }
      refs.push({ path, record, target });
    }
  return refs;
}

export async function collectGarbage(options: GcOptions): Promise<GcReport> {
  const now = options.now ?? Date.now();
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const storeRoot = join(options.artifactsRoot, "store");
  const recent = (path: string) => {
    const m = mtimeOf(path);
    return m !== null && now - m < graceMs;
  };
  if (!options.dryRun) {
    // Debris of dead writers first: a half-written temporary is no one's object.
    sweepRunDebris(runsRoot(options.artifactsRoot), now);
    sweepStoreDebris(storeRoot, now);
  }
  const named = new Set<string>();
  const runs = runRoots(options.artifactsRoot, named);
  const items = await itemRoots(options.registries ?? [], named);
  const live = new Set(named);
  const refs = readRefs(storeRoot);
  let refsRemoved = 0;
  const prunedRefs = new Set<string>();
  for (const ref of refs) {
    const prunable =
      options.pruneCache === true &&
      (ref.target === null || !named.has(ref.target)) &&
      !recent(ref.path) &&
      (ref.target === null ||
        !recent(join(storeRoot, "sha256", ref.target.slice(0, 2), ref.target.slice(2))));
    if (prunable) {
      refsRemoved++;
      prunedRefs.add(ref.path);
      if (!options.dryRun) rmSync(ref.path, { force: true });
      continue;
    }
    if (ref.record !== null) live.add(ref.record);
    if (ref.target !== null) live.add(ref.target);
  }
  let objects = 0;
  let objectsLive = 0;
  let objectsRecent = 0;
  let objectsRemoved = 0;
  let bytesRemoved = 0;
  const removed = new Set<string>();
  const shards = join(storeRoot, "sha256");
  for (const shard of list(shards)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const rest of list(join(shards, shard))) {
      const hash = shard + rest;
      if (!HEX64.test(hash)) continue; // a temporary: the debris sweep's
      objects++;
      if (live.has(hash)) {
        objectsLive++;
        continue;
      }
      const path = join(shards, shard, rest);
      // Read again right before removing: a use since the scan began keeps it.
      if (recent(path)) {
        objectsRecent++;
        continue;
      }
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        continue;
      }
      objectsRemoved++;
      bytesRemoved += size;
      removed.add(hash);
      if (!options.dryRun) rmSync(path, { force: true });
    }
  }
  // Quota records (IndexPolicy) of index sets whose index, or whose snapshot, is gone.
  let indexSetsRemoved = 0;
  if (options.pruneCache === true) {
    const setsRoot = join(storeRoot, "index-sets");
    const refExists = (params: IndexParams, snapshot: string) => {
      try {
        const path = join(storeRoot, "refs", indexRefName(snapshot, params));
        return mtimeOf(path) !== null && !prunedRefs.has(path);
      } catch {
        return false; // an analyzer this build does not know: no index of ours
      }
    };
    for (const snapshot of list(setsRoot)) {
      if (!HEX64.test(snapshot)) continue;
      const dir = IndexPolicy.setsDir(storeRoot, snapshot);
      const snapshotGone =
        removed.has(snapshot) || mtimeOf(join(shards, snapshot.slice(0, 2), snapshot.slice(2))) === null;
      for (const marker of list(dir)) {
        let params: IndexParams | null = null;
        try {
          params = JSON.parse(readFileSync(join(dir, marker), "utf8")) as IndexParams;
        } catch {
          params = null;
        }
        const keep = !snapshotGone && params !== null && refExists(params, snapshot);
        if (keep || recent(join(dir, marker))) continue;
        indexSetsRemoved++;
        if (!options.dryRun) rmSync(join(dir, marker), { force: true });
      }
    }
  }
  return {
    dry_run: options.dryRun,
    grace_seconds: Math.round(graceMs / 1000),
    runs,
    items,
    refs: refs.length,
    refs_removed: refsRemoved,
    objects,
    objects_live: objectsLive,
    objects_recent: objectsRecent,
    objects_removed: objectsRemoved,
    bytes_removed: bytesRemoved,
    index_sets_removed: indexSetsRemoved,
  };
}
