/**
 * src/app/store/index-policy.ts against a temporary store: which index parameter sets the service
 * builds for a corpus. Preset sets and allow-listed sets always; any other set counts against a
 * per-snapshot quota recorded on disk (so it holds across instances, i.e. restarts); one more is
 * E_INDEX_PARAMS_REFUSED before anything is built. `--index-params` text that is not a parameter
 * set is a clean E_USAGE naming the flag.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_INDEX_QUOTA, IndexPolicy, parseIndexParams } from "../../src/app/store/index-policy.js";
import { canonicalJson, sha256Hex } from "../../src/core/canonical.js";
import { PRESETS, resolveParams } from "../../src/core/plan/planner.js";
import { type IndexParams, pickIndexParams } from "../../src/core/retrieval/index-params.js";
import { thrown } from "../helpers/canon-error.js";
import { tempDir } from "../helpers/tmp.js";

const SNAPSHOT = "a".repeat(64);
const OTHER_SNAPSHOT = "b".repeat(64);

const presetParams = (preset: string): IndexParams =>
  pickIndexParams(resolveParams({ version: "1", description: "q", constraints: {} }, preset));

/** A set no preset has: the default's, with another chunk size. */
const custom = (chunk: number): IndexParams => ({ ...presetParams("default"), chunk_chars: chunk });

describe("parseIndexParams", () => {
  it("reads key=value pairs with their types: numbers, the analyzer name, index_titles true/false", () => {
    expect(parseIndexParams("chunk_chars=800, overlap_chars=100")).toEqual({
      chunk_chars: 800,
      overlap_chars: 100,
    });
    expect(parseIndexParams("analyzer=simple,index_titles=false,bm25_k1=0.9,bm25_b=0")).toEqual({
      analyzer: "simple",
      index_titles: false,
      bm25_k1: 0.9,
      bm25_b: 0,
    });
  });

  it.each([
    ["", /expected key=value/],
    ["chunk_chars", /expected key=value/],
    ["chunk_chars=", /expected key=value/],
    ["chunk_chars=1=2", /expected key=value/],
    ["chunk_chars=800,", /expected key=value/],
    ["temperature=1", /unknown index parameter temperature \(known: analyzer, bm25_k1/],
    ["__proto__=1", /unknown index parameter __proto__/],
    ["chunk_chars=many", /chunk_chars must be a number/],
    ["bm25_k1=Infinity", /bm25_k1 must be a number/],
    ["bm25_b=NaN", /bm25_b must be a number/],
    ["index_titles=yes", /index_titles must be true or false/],
  ])("%j is E_USAGE naming the flag", (text, message) => {
    const error = thrown(() => parseIndexParams(text, "--index-params"));
    expect(error.code).toBe("E_USAGE");
    expect(error.message).toMatch(message);
    expect(error.where).toEqual({ field: "--index-params" });
  });
});

describe("IndexPolicy.admit", () => {
  it("always admits every preset's set, recording nothing, even with a quota of 0", () => {
    const store = tempDir();
    const policy = new IndexPolicy({ quota: 0 });
    for (const preset of Object.keys(PRESETS)) policy.admit(store, SNAPSHOT, presetParams(preset));
    expect(readdirSync(store)).toEqual([]);
  });

  it("counts other sets per snapshot up to the quota, records each once, and refuses one more", () => {
    const store = tempDir();
    const policy = new IndexPolicy({ quota: 2 });
    policy.admit(store, SNAPSHOT, custom(300));
    policy.admit(store, SNAPSHOT, custom(300)); // the same set again: not counted twice
    policy.admit(store, SNAPSHOT, custom(400));
    const dir = IndexPolicy.setsDir(store, SNAPSHOT);
    expect(readdirSync(dir).sort()).toEqual(
      [sha256Hex(canonicalJson(custom(300))), sha256Hex(canonicalJson(custom(400)))].sort(),
    );
    // Each record holds the set it counts, as canonical JSON.
    const record = join(dir, sha256Hex(canonicalJson(custom(300))));
    expect(readFileSync(record, "utf8")).toBe(`${canonicalJson(custom(300))}\n`);
    const error = thrown(() => policy.admit(store, SNAPSHOT, custom(500)));
    expect(error.code).toBe("E_INDEX_PARAMS_REFUSED");
    expect(error.message).toMatch(/at most 2 index parameter sets per corpus beyond the presets/);
    expect(readdirSync(dir)).toHaveLength(2);
    // Already counted sets stay allowed; another snapshot has its own quota.
    policy.admit(store, SNAPSHOT, custom(400));
    policy.admit(store, OTHER_SNAPSHOT, custom(500));
  });

  it("holds the quota across instances (a restarted server), reading what is on disk", () => {
    const store = tempDir();
    new IndexPolicy({ quota: 1 }).admit(store, SNAPSHOT, custom(300));
    const restarted = new IndexPolicy({ quota: 1 });
    restarted.admit(store, SNAPSHOT, custom(300));
    expect(thrown(() => restarted.admit(store, SNAPSHOT, custom(400))).code).toBe("E_INDEX_PARAMS_REFUSED");
  });

  it("admits allow-listed sets beyond the quota (keys not given match anything) and names them when refusing", () => {
    const store = tempDir();
    const policy = new IndexPolicy({ quota: 0, allow: [{ chunk_chars: 300 }] });
    policy.admit(store, SNAPSHOT, custom(300));
    policy.admit(store, SNAPSHOT, { ...custom(300), analyzer: "simple", bm25_k1: 2 });
    expect(readdirSync(store)).toEqual([]);
    const error = thrown(() => policy.admit(store, SNAPSHOT, custom(400)));
    expect(error.message).toContain('and {"chunk_chars":300}');
  });

  it("uses the default quota, and counts only well-named records (foreign files in the folder are not sets)", () => {
    expect(new IndexPolicy().quota).toBe(DEFAULT_INDEX_QUOTA);
    const store = tempDir();
    const dir = IndexPolicy.setsDir(store, SNAPSHOT);
    mkdirSync(join(dir, "c".repeat(64), "nested"), { recursive: true }); // a folder with a set's name
    writeFileSync(join(dir, "notes.txt"), "not a set");
    writeFileSync(join(dir, `${"d".repeat(64)}.tmp-1-abc`), "half");
    const policy = new IndexPolicy({ quota: 2 });
    // The hex-named folder counts (it occupies a name); the other two entries do not.
    policy.admit(store, SNAPSHOT, custom(300));
    expect(thrown(() => policy.admit(store, SNAPSHOT, custom(400))).code).toBe("E_INDEX_PARAMS_REFUSED");
  });

  it("a store folder it cannot write is an error from the file system, not an admitted set", () => {
    const store = tempDir();
    // index-sets is a file: the record cannot be written, so the set is not silently admitted.
    writeFileSync(join(store, "index-sets"), "not a folder");
    expect(() => new IndexPolicy({ quota: 4 }).admit(store, SNAPSHOT, custom(300))).toThrow(/ENOTDIR|EEXIST/);
  });
});
