/**
 * Run bundles: one self-contained file holding a run and the store objects it references
 * (corpus snapshot, index), so `verify` and `replay --live` work on another machine.
 * Format: gzip of "CRBUNDLE1\n", then records of [u32 LE header length][JSON header][bytes].
 * Import trusts nothing: every path is checked against the run layout, every object against
 * its sha256, and a differing run already in place is never overwritten.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { ID_PATTERN, sha256Hex } from "../core/canonical.js";
import { InputError } from "../core/errors.js";
import { RunRecord } from "../core/models/run.js";
import { RetrievalProvenance } from "../core/models/trace.js";
import { RUN_FILES } from "../core/run/files.js";
import { readRunDirectory } from "./run-reader.js";
import { runsRoot, writeRun } from "./run-writer.js";
import { DiskStore, writeFileAtomic } from "./store.js";

const MAGIC = Buffer.from("CRBUNDLE1\n", "latin1");
const RUN_PATH =
  /^(spec|plan|report|answer|run|manifest|signature)\.json$|^trace\.jsonl$|^evidence\/[0-9a-f]{64}\.txt$|^provenance\/[a-z]+\.json$/;

type RecordHeader =
  | { kind: "run"; run_id: string }
  | { kind: "file"; path: string; size: number }
  | { kind: "object"; sha256: string; size: number };

function record(header: RecordHeader, bytes: Uint8Array = new Uint8Array()): Buffer[] {
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(head.length);
  return [length, head, Buffer.from(bytes)];
}

/** The store objects a run names: its corpus snapshot and index. */
function referencedObjects(files: ReadonlyMap<string, Uint8Array>): string[] {
  const bytes = files.get(RUN_FILES.run);
  if (bytes === undefined) return [];
  const run = RunRecord.safeParse(JSON.parse(Buffer.from(bytes).toString("utf8")));
  const tool = run.success ? run.data.inputs.runtime.tools.find((t) => t.name === "retrieve") : undefined;
  const provenance = RetrievalProvenance.safeParse(tool?.config);
  return provenance.success ? [provenance.data.corpus_snapshot, provenance.data.index_hash] : [];
}

export function exportRun(
  runDir: string,
  storeRoot: string,
  out: string,
): { runId: string; files: number; objects: number; bytes: number } {
  const { files } = readRunDirectory(runDir);
  const runBytes = files.get(RUN_FILES.run);
  const runId =
    runBytes === undefined
      ? undefined
      : RunRecord.safeParse(JSON.parse(Buffer.from(runBytes).toString("utf8"))).data?.run_id;
  if (runId === undefined)
    throw new InputError("E_NOT_A_RUN", "run.json is missing or unreadable: run `canon-reason verify`", {
      file: runDir,
    });
  const store = new DiskStore(storeRoot);
  const parts: Buffer[] = [MAGIC, ...record({ kind: "run", run_id: runId })];
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
    parts.push(...record({ kind: "file", path, size: bytes.length }, bytes));
  const objects = referencedObjects(files);
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
  return { runId, files: files.size, objects: objects.length, bytes: gz.length };
}

export function importRun(
  bundle: string,
  artifactsRoot: string,
): { runId: string; runDir: string; created: boolean; objects: number } {
  const bad = (message: string) => new InputError("E_BUNDLE_INVALID", message, { file: bundle });
  let data: Buffer;
  try {
    data = gunzipSync(readFileSync(bundle));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === "ENOENT" || code === "EACCES"
      ? new InputError("E_BUNDLE_INVALID", `cannot read (${code})`, { file: bundle })
      : bad("not a gzip file");
  }
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw bad("not a canon-reason bundle");
  let at = MAGIC.length;
  let runId: string | null = null;
  const files = new Map<string, Uint8Array>();
  const objects = new Map<string, Uint8Array>();
  while (at < data.length) {
    if (at + 4 > data.length) throw bad("truncated record");
    const length = data.readUInt32LE(at);
    let header: RecordHeader;
    try {
      header = JSON.parse(data.subarray(at + 4, at + 4 + length).toString("utf8")) as RecordHeader;
    } catch {
      throw bad(`unreadable record header at byte ${at}`);
    }
    at += 4 + length;
    if (header.kind === "run") {
      if (
        typeof header.run_id !== "string" ||
        !ID_PATTERN.test(header.run_id) ||
        !header.run_id.startsWith("run_")
      )
        throw bad("invalid run id");
      runId = header.run_id;
      continue;
    }
    const size = header.size;
    if (!Number.isInteger(size) || size < 0 || at + size > data.length)
      throw bad("truncated or oversized record");
    const bytes = data.subarray(at, at + size);
    at += size;
    if (header.kind === "file") {
      // Only the run layout's own paths: no "..", no absolute paths, nothing outside the run.
      if (typeof header.path !== "string" || !RUN_PATH.test(header.path))
        throw bad(`refusing path ${JSON.stringify(header.path)}`);
      files.set(header.path, bytes);
    } else if (header.kind === "object") {
      if (typeof header.sha256 !== "string" || sha256Hex(bytes) !== header.sha256)
        throw bad(`object ${String(header.sha256)} does not match its sha256`);
      objects.set(header.sha256, bytes);
    } else throw bad(`unknown record kind ${JSON.stringify((header as { kind: unknown }).kind)}`);
  }
  if (runId === null || !files.has(RUN_FILES.manifest)) throw bad("no run in the bundle");
  const runDir = join(runsRoot(artifactsRoot), runId);
  const existing = join(runDir, RUN_FILES.manifest);
  if (
    existsSync(existing) &&
    !readFileSync(existing).equals(Buffer.from(files.get(RUN_FILES.manifest) as Uint8Array))
  ) {
    throw new InputError(
      "E_BUNDLE_INVALID",
      "a different run with this id already exists; refusing to overwrite it",
      { file: runDir },
    );
  }
  const store = new DiskStore(artifactsRoot);
  for (const bytes of objects.values()) store.put(bytes);
  const written = writeRun(artifactsRoot, runId, files);
  return { runId, runDir: written.runDir, created: written.created, objects: objects.size };
}
