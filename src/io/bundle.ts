/**
 * Run bundles: one self-contained file holding a run and the store objects it references
 * (corpus snapshot, index), so `verify` and `replay --live` work on another machine.
 * Format: gzip of "CRBUNDLE1\n", then records of [u32 LE header length][JSON header][bytes].
 * Import trusts nothing: every header is schema-checked, every path checked against the run
 * layout, every object against its sha256, and a differing run already in place is never
 * overwritten. Nothing is written before the whole bundle has been read and checked.
 */
import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { z } from "zod";
import { sha256Hex } from "../core/canonical.js";
import { InputError } from "../core/errors.js";
import { idOf, Sha256Hex } from "../core/models/common.js";
import { RunRecord } from "../core/models/run.js";
import { RetrievalProvenance } from "../core/models/trace.js";
import { RUN_FILES } from "../core/run/files.js";
import { readRunDirectory } from "./run-reader.js";
import { writeRun } from "./run-writer.js";
import { DiskStore, writeFileAtomic } from "./store.js";

const MAGIC = Buffer.from("CRBUNDLE1\n", "latin1");
/** The run layout's own paths, and nothing else: no "..", no absolute paths, no volatile/. */
const RUN_PATH =
  /^(spec|plan|report|answer|run|manifest|signature)\.json$|^trace\.jsonl$|^evidence\/[0-9a-f]{64}\.txt$|^provenance\/[a-z]+\.json$/;

const Size = z.int().nonnegative();
const RecordHeader = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("run"), run_id: idOf("run") }),
  z.strictObject({ kind: z.literal("file"), path: z.string().regex(RUN_PATH), size: Size }),
  z.strictObject({ kind: z.literal("object"), sha256: Sha256Hex, size: Size }),
]);
type RecordHeader = z.infer<typeof RecordHeader>;

function record(header: RecordHeader, bytes: Uint8Array = new Uint8Array()): Buffer[] {
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(head.length);
  return [length, head, Buffer.from(bytes)];
}

/** run.json parsed, or null when it is missing or does not parse (a run is hostile input). */
function runRecordOf(files: ReadonlyMap<string, Uint8Array>): RunRecord | null {
  const bytes = files.get(RUN_FILES.run);
  if (bytes === undefined) return null;
  try {
    return RunRecord.safeParse(JSON.parse(Buffer.from(bytes).toString("utf8"))).data ?? null;
  } catch {
    return null;
  }
}

/** The store objects a run names: its corpus snapshot and index (none without retrieval). */
function referencedObjects(run: RunRecord): string[] {
  const tool = run.inputs.runtime.tools.find((t) => t.name === "retrieve");
  const provenance = RetrievalProvenance.safeParse(tool?.config);
  return provenance.success ? [provenance.data.corpus_snapshot, provenance.data.index_hash] : [];
}

export function exportRun(
  runDir: string,
  storeRoot: string,
  out: string,
): { runId: string; files: number; objects: number; bytes: number } {
  const { files } = readRunDirectory(runDir);
  const run = runRecordOf(files);
  if (run === null)
    throw new InputError("E_NOT_A_RUN", "run.json is missing or unreadable: run `canon-reason verify`", {
      file: runDir,
    });
  const store = new DiskStore(storeRoot);
  const parts: Buffer[] = [MAGIC, ...record({ kind: "run", run_id: run.run_id })];
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
    parts.push(...record({ kind: "file", path, size: bytes.length }, bytes));
  const objects = referencedObjects(run);
  for (const hash of objects) {
    const bytes = store.get(hash);
    if (bytes === null)
      throw new InputError(
        "E_STORE_MISSING",
        `store object sha256:${hash} referenced by the run is not in ${store.root}`,
        { file: runDir },
      );
    parts.push(...record({ kind: "object", sha256: hash, size: bytes.length }, bytes));
  }
  const gz = gzipSync(Buffer.concat(parts));
  writeFileAtomic(out, gz);
  return { runId: run.run_id, files: files.size, objects: objects.length, bytes: gz.length };
}

/** Reads and checks a whole bundle in memory; throws E_BUNDLE_INVALID on anything off. */
function readBundle(bundle: string): {
  runId: string;
  files: Map<string, Uint8Array>;
  objects: Map<string, Uint8Array>;
} {
  const bad = (message: string) => new InputError("E_BUNDLE_INVALID", message, { file: bundle });
  let raw: Buffer;
  try {
    raw = readFileSync(bundle);
  } catch (error) {
    throw bad(`cannot read (${(error as NodeJS.ErrnoException).code ?? "unknown error"})`);
  }
  let data: Buffer;
  try {
    data = gunzipSync(raw);
  } catch {
    throw bad("not a gzip file, or a damaged one");
  }
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw bad("not a canon-reason bundle");
  let at = MAGIC.length;
  let runId: string | null = null;
  const files = new Map<string, Uint8Array>();
  const objects = new Map<string, Uint8Array>();
  while (at < data.length) {
    if (at + 4 > data.length) throw bad("truncated record");
    const length = data.readUInt32LE(at);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.subarray(at + 4, at + 4 + length).toString("utf8"));
    } catch {
      throw bad(`unreadable record header at byte ${at}`);
    }
    // The header is attacker-controlled: a schema failure is a finding, never a crash.
    const header = RecordHeader.safeParse(parsed);
    if (!header.success) {
      const path = (parsed as { path?: unknown } | null)?.path;
      throw bad(
        typeof path === "string" && !RUN_PATH.test(path)
          ? `refusing path ${JSON.stringify(path)}`
          : `invalid record header at byte ${at}`,
      );
    }
    at += 4 + length;
    const h = header.data;
    if (h.kind === "run") {
      if (runId !== null) throw bad("more than one run in the bundle");
      runId = h.run_id;
      continue;
    }
    if (at + h.size > data.length) throw bad("truncated record");
    const bytes = data.subarray(at, at + h.size);
    at += h.size;
    if (h.kind === "file") {
      if (files.has(h.path)) throw bad(`${h.path} appears twice`);
      files.set(h.path, bytes);
    } else {
      if (sha256Hex(bytes) !== h.sha256) throw bad(`object ${h.sha256} does not match its sha256`);
      objects.set(h.sha256, bytes);
    }
  }
  if (runId === null || !files.has(RUN_FILES.manifest)) throw bad("no run in the bundle");
  // The directory name comes from the run itself, so a header cannot file a run under another id.
  if (runRecordOf(files)?.run_id !== runId) throw bad(`run.json does not name the run ${runId}`);
  return { runId, files, objects };
}

export interface ImportOptions {
  /**
   * True when the run at `runDir` verifies. A differing run already in place is replaced only
   * when it does not: import repairs a damaged run but never replaces a sound one (signed or
   * not) with a different one. Without it, any differing run is refused.
   */
  isSound?: (runDir: string) => boolean;
}

export function importRun(
  bundle: string,
  artifactsRoot: string,
  options: ImportOptions = {},
): { runId: string; runDir: string; created: boolean; objects: number } {
  const { runId, files, objects } = readBundle(bundle);
  const store = new DiskStore(artifactsRoot);
  for (const bytes of objects.values()) store.put(bytes);
  const written = writeRun(artifactsRoot, runId, files, {
    beforeReplace: (existing) => {
      if (options.isSound?.(existing) === false) return;
      throw new InputError(
        "E_BUNDLE_INVALID",
        "a different run with this id already exists and verifies; refusing to overwrite it",
        { file: existing },
      );
    },
  });
  return { runId, runDir: written.runDir, created: written.created, objects: objects.size };
}
