/**
 * Local rebuild records (src/io/index-cache/rebuild-records.ts, docs/design.md §5 "Rebuild records"): a
 * verification skips rebuilding a pinned index only on a record whose HMAC checks under the key
 * in the state folder and which names exactly the bytes at hand. Every forged or doubtful record
 * must leave the forged index of issue 19 item 4 caught (INDEX_NOT_REBUILDABLE), and a genuine
 * record (made with the key, as only its holder can) must be what lets it through, so the
 * forgery tests below can fail.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../src/app/run/run-job.js";
import { RUN_FILES, type RunFiles } from "../../src/core/artifact/files.js";
import { canonicalJson, sha256Hex } from "../../src/core/canonical.js";
import { readSnapshot } from "../../src/core/corpus/document.js";
import type { RetrievalProvenance } from "../../src/core/models/trace.js";
import type { Policy } from "../../src/core/models/verification-report.js";
import { buildIndex } from "../../src/core/retrieval/bm25/bm25-build.js";
import {
  INDEX_FORMAT_VERSION,
  indexFormatVersion,
  serializeIndex,
} from "../../src/core/retrieval/bm25/bm25-format.js";
import { indexParamsFromProvenance, toBm25Params } from "../../src/core/retrieval/index-params.js";
import {
  builtIndexRecords,
  type RebuildRecords,
  type RebuildSubject,
  rebuildSubject,
} from "../../src/core/verify/pinned-index.js";
import { verifyRun } from "../../src/core/verify/verifier.js";
import { prepareRetrieval } from "../../src/io/index-cache/index-cache.js";
import { RebuildLedger, STATE_DIR_ENV, stateDir } from "../../src/io/index-cache/rebuild-records.js";
import { readRunDirectory } from "../../src/io/runs/run-reader.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { DEMO_CORPUS } from "../helpers/cli.js";
import { resealRun } from "../helpers/forge.js";
import { tempDir } from "../helpers/tmp.js";

const REPO = new URL("../../", import.meta.url).pathname;
const BRIDGE = "How is a trick won in contract bridge?";

let store: DiskStore;
let honest: RunFiles;
let forged: RunFiles;
let honestSubject: RebuildSubject;
let forgedSubject: RebuildSubject;

const provenance = (files: RunFiles): RetrievalProvenance =>
  JSON.parse(Buffer.from(files.get(RUN_FILES.run) as Uint8Array).toString("utf8")).inputs.runtime.tools[0]
    .config;

beforeAll(async () => {
  const artifacts = tempDir();
  store = new DiskStore(artifacts);
  const result = await runJob({
    spec: { version: "1", description: BRIDGE, constraints: { corpus: DEMO_CORPUS } },
    preset: "default",
    seed: 0,
    artifactsRoot: artifacts,
    rebuilds: new RebuildLedger(tempDir()),
  });
  honest = readRunDirectory(result.runDir).files;
  // Issue 19 item 4: an index of the same snapshot, same counts, with the answer's words blanked.
  const p = provenance(honest);
  const docs = [...readSnapshot(store.get(p.corpus_snapshot) as Uint8Array)].map((d) => ({
    docId: d.doc_id,
    text: d.doc_id.includes("contract-bridge")
      ? d.text.replace(/\b(trick|won|win)\b/gi, (w) => " ".repeat(w.length))
      : d.text,
    ...(d.title === undefined ? {} : { title: d.title }),
  }));
  const hash = store.put(serializeIndex(buildIndex(docs, toBm25Params(indexParamsFromProvenance(p)))));
  const out = new Map(honest);
  for (const [path, bytes] of honest)
    if (/\.jsonl?$/.test(path))
      out.set(path, Buffer.from(Buffer.from(bytes).toString("utf8").split(p.index_hash).join(hash)));
  forged = resealRun(out, { store });
  honestSubject = rebuildSubject(p, INDEX_FORMAT_VERSION);
  forgedSubject = rebuildSubject(provenance(forged), INDEX_FORMAT_VERSION);
}, 120_000);

const verify = (files: RunFiles, rebuilds: RebuildRecords | undefined, policy: Policy = "audit") =>
  verifyRun({ files, store, policy, stage: "sealed", ...(rebuilds === undefined ? {} : { rebuilds }) });
const caught = (files: RunFiles, dir: string) =>
  verify(files, new RebuildLedger(dir))
    .failures.map((f) => f.code)
    .includes("INDEX_NOT_REBUILDABLE");
const recordPath = (dir: string, subject: RebuildSubject) =>
  join(dir, "rebuilds", sha256Hex(canonicalJson(subject)));
/** A state folder holding a genuine record (made with its key) for the forged index. */
function vouchedForForgery(): string {
  const dir = tempDir();
  new RebuildLedger(dir).record(forgedSubject);
  return dir;
}

describe("rebuild records", () => {
  it("the honest run passes and the forged index is caught with no records at all", () => {
    expect(verify(honest, undefined).verdict).toBe("pass");
    expect(verify(forged, undefined).failures.map((f) => f.code)).toContain("INDEX_NOT_REBUILDABLE");
  });

  it("a genuine record is what lets a rebuild be skipped (so the forgeries below can fail), never under strict", () => {
    const dir = vouchedForForgery();
    expect(caught(forged, dir)).toBe(false);
    const strict = verify(forged, new RebuildLedger(dir), "strict");
    expect(strict.failures.map((f) => f.code)).toContain("INDEX_NOT_REBUILDABLE");
  });

  it("a rebuild that agreed is recorded and trusted by a later verification, across processes", () => {
    const dir = tempDir();
    expect(verify(honest, new RebuildLedger(dir)).verdict).toBe("pass");
    expect(readdirSync(join(dir, "rebuilds"))).toEqual([sha256Hex(canonicalJson(honestSubject))]);
    expect(new RebuildLedger(dir).agreed(honestSubject)).toBe(true);
    // A rebuild that disagreed leaves no record.
    expect(caught(forged, dir)).toBe(true);
    expect(new RebuildLedger(dir).agreed(forgedSubject)).toBe(false);
  });

  it("the key is made on first record, 32 bytes, 0600 in a 0700 folder; asking alone makes nothing", () => {
    const dir = join(tempDir(), "state");
    expect(new RebuildLedger(dir).agreed(honestSubject)).toBe(false);
    expect(() => statSync(dir)).toThrow();
    new RebuildLedger(dir).record(honestSubject);
    expect(statSync(join(dir, "rebuild-key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "rebuild-key")).size).toBe(32);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("a record made under another key is caught", () => {
    const elsewhere = vouchedForForgery();
    const dir = tempDir();
    new RebuildLedger(dir).record(honestSubject);
    copyFileSync(recordPath(elsewhere, forgedSubject), recordPath(dir, forgedSubject));
    expect(caught(forged, dir)).toBe(true);
  });

  it.each([
    ["its MAC", (r: Record<string, unknown>) => ({ ...r, mac: `${"0".repeat(63)}1` })],
    ["its build", (r: Record<string, unknown>) => ({ ...r, build: "canon-reason/0.0.1" })],
    [
      "its subject (another rule version)",
      (r: Record<string, unknown>) => ({ ...r, subject: { ...(r.subject as object), rule: 0 } }),
    ],
  ])("an edited record (%s) is caught", (_what, edit) => {
    const dir = vouchedForForgery();
    const path = recordPath(dir, forgedSubject);
    writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, "utf8")))));
    expect(caught(forged, dir)).toBe(true);
  });

  it("a genuine record for other bytes (the honest index), put where the forged one's would be, is caught", () => {
    const dir = tempDir();
    new RebuildLedger(dir).record(honestSubject);
    mkdirSync(join(dir, "rebuilds"), { recursive: true });
    const honestRecord = JSON.parse(readFileSync(recordPath(dir, honestSubject), "utf8"));
    // As it is, and with the forged subject but the honest subject's MAC.
    copyFileSync(recordPath(dir, honestSubject), recordPath(dir, forgedSubject));
    expect(caught(forged, dir)).toBe(true);
    writeFileSync(
      recordPath(dir, forgedSubject),
      JSON.stringify({ ...honestRecord, subject: forgedSubject }),
    );
    expect(caught(forged, dir)).toBe(true);
  });

  it("a missing key file: no record is trusted (and none is made by asking)", () => {
    const dir = vouchedForForgery();
    rmSync(join(dir, "rebuild-key"));
    expect(caught(forged, dir)).toBe(true);
  });

  it.each([
    [
      "a symbolic link to the very key",
      (key: string, dir: string) => {
        copyFileSync(key, join(dir, "key-copy"));
        chmodSync(join(dir, "key-copy"), 0o600);
        rmSync(key);
        symlinkSync(join(dir, "key-copy"), key);
      },
    ],
    [
      "a folder",
      (key: string) => {
        rmSync(key);
        mkdirSync(key);
      },
    ],
    ["readable by group and others", (key: string) => chmodSync(key, 0o644)],
    ["writable by others", (key: string) => chmodSync(key, 0o602)],
    ["one byte short", (key: string) => writeFileSync(key, readFileSync(key).subarray(1))],
  ])("a key file that is %s: no record is trusted", (_what, spoil) => {
    const dir = vouchedForForgery();
    spoil(join(dir, "rebuild-key"), dir);
    expect(caught(forged, dir)).toBe(true);
  });

  it("an unreadable key file: no record is trusted", () => {
    // Checked in a process that cannot read the key: as an unprivileged user when this is root
    // (root reads any file), else as this user with the read bit off.
    const dir = vouchedForForgery();
    const key = join(dir, "rebuild-key");
    const asRoot = process.getuid?.() === 0;
    const NOBODY = 65534;
    if (asRoot) {
      chmodSync(join(dir, ".."), 0o711);
      for (const path of [dir, join(dir, "rebuilds"), key, recordPath(dir, forgedSubject)])
        chownSync(path, NOBODY, NOBODY);
    }
    const module = pathToFileURL(join(REPO, "dist", "io", "index-cache", "rebuild-records.js")).href;
    const script = `import { RebuildLedger } from ${JSON.stringify(module)};
      process.stdout.write(String(new RebuildLedger(process.argv[1]).agreed(JSON.parse(process.argv[2]))));`;
    const ask = () => {
      const r = spawnSync(
        process.execPath,
        ["--input-type=module", "-e", script, dir, JSON.stringify(forgedSubject)],
        { encoding: "utf8", ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) },
      );
      expect(r.stderr).toBe("");
      return r.stdout;
    };
    // The same process trusts the record while it can read the key...
    expect(ask()).toBe("true");
    // ...and not once it cannot (owner may only write it).
    chmodSync(key, 0o200);
    expect(ask()).toBe("false");
  });

  it(`the state folder: ${STATE_DIR_ENV}, else XDG_STATE_HOME, else ~/.local/state`, () => {
    expect(stateDir({ [STATE_DIR_ENV]: "/srv/state" })).toBe("/srv/state");
    expect(stateDir({ XDG_STATE_HOME: "/x" })).toBe("/x/canon-reason");
    expect(stateDir({ XDG_STATE_HOME: "relative", HOME: "/home/u" })).toMatch(
      /\.local\/state\/canon-reason$/,
    );
  });

  it("a fresh run over a cached index does not rebuild it in its sealing verifier", async () => {
    const artifacts = tempDir();
    const dir = tempDir();
    const spy = (ledger: RebuildLedger) => {
      const calls = { agreed: [] as boolean[], recorded: 0 };
      const records: RebuildRecords = {
        agreed: (s) => {
          const answer = ledger.agreed(s);
          calls.agreed.push(answer);
          return answer;
        },
        record: (s) => {
          calls.recorded++;
          ledger.record(s);
        },
      };
      return { calls, records };
    };
    const job = (rebuilds: RebuildRecords) =>
      runJob({
        spec: { version: "1", description: BRIDGE, constraints: { corpus: DEMO_CORPUS } },
        preset: "default",
        seed: 0,
        artifactsRoot: artifacts,
        rebuilds,
      });
    // The first run builds the index; its sealing verifier trusts that build (builtIndexRecords,
    // below) without asking the ledger, and the build is recorded once the run is written.
    const first = spy(new RebuildLedger(dir));
    expect((await job(first.records)).report.verdict).toBe("pass");
    expect(first.calls).toEqual({ agreed: [], recorded: 1 });
    // A later process (a new ledger: nothing in memory) reads the index from the cache and
    // finds the record, as it loads the index (no consistency pass) and in its verifier: no
    // rebuild, so nothing new to record.
    const second = spy(new RebuildLedger(dir));
    expect((await job(second.records)).report.verdict).toBe("pass");
    expect(second.calls).toEqual({ agreed: [true, true], recorded: 0 });
    // Without the record it would have checked the index, rebuilt it, and recorded the agreeing rebuild.
    const third = spy(new RebuildLedger(tempDir()));
    await job(third.records);
    expect(third.calls).toEqual({ agreed: [false, false], recorded: 1 });
  });

  it("a run's sealing verifier trusts the index built just now for it, and nothing else", async () => {
    const fresh = new DiskStore(tempDir());
    const params = indexParamsFromProvenance(provenance(honest));
    const built = await prepareRetrieval(fresh, { kind: "path", path: DEMO_CORPUS }, params);
    expect(built.built).toBe(true);
    const p = built.backend.provenance;
    const records = builtIndexRecords(p);
    // The subject the verifier asks about: the pinned index's bytes in the format they are in.
    const bytes = fresh.get(built.indexHash) as Uint8Array;
    expect(records.agreed(rebuildSubject(p, indexFormatVersion(bytes)))).toBe(true);
    expect(records.agreed(forgedSubject)).toBe(false);
    expect(records.agreed({ ...rebuildSubject(p, indexFormatVersion(bytes)), index: "0".repeat(64) })).toBe(
      false,
    );
  });
});
