// Shared helpers for the benchmarks: dataset paths, timing statistics, result files.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = join(REPO, "dist", "bin", "canon-reason.js");
/**
 * Where datasets are looked for, in order: $CANON_REASON_DATASETS, then $CANON_BENCH_DATASETS (the
 * older name), then ../shared/datasets beside the repository. Each dataset is taken from the first
 * folder that has it. Data fetched from public repositories is never committed to this repository
 * (docs/datasets.md lists every dataset, its origin and checksums).
 */
export const DATASET_ROOTS = [
  ...new Set(
    [
      process.env.CANON_REASON_DATASETS,
      process.env.CANON_BENCH_DATASETS,
      join(REPO, "..", "shared", "datasets"),
    ]
      .filter((v) => v !== undefined && v !== "")
      .map((v) => resolve(v)),
  ),
];

/**
 * sha256 of every file of the datasets the benchmarks read, as their SOURCE.md / docs/datasets.md
 * state them. A dataset whose files differ is not the one the published figures came from.
 */
export const DATASET_SHA256 = {
  scifact: {
    "corpus.jsonl": "dec31c8182f3d744c7d2c09423756fd1d17cbef75808db13ba01cc0aab4d1ac6",
    "queries.jsonl": "d12457b94deaf15c382e1bd5a291366a97bd95caea6a63637dd23da438b72d08",
    "qrels/train.tsv": "ac0902d9b1cb717df182aaff1306175877fdb8f55bb5c3e8597ad694fc8e539f",
  },
  "scifact-claims": {
    "corpus.jsonl": "b8d6c89624cb2ed74dee8938effc4f5d8bd2086887880af8110d64be4ceade62",
    "claims_train.jsonl": "f4c8fa82d8bd0653a9cc8d61a6ea48c25eacea64e90af5dbf390ebb1b74372f0",
  },
  "scifact-test": {
    "test.tsv": "68c0ac63f1c24b9e8ce497649694f09b2d0850bab7ec2b103cc66996f5f8b3a3",
  },
  cranfield: {
    "corpus.jsonl.gz": "be9d77c98aa9655e3a82af3d3d1f6d379e1bdf26f80a4754fb725954444e3fa4",
    "queries.jsonl": "c64f2a5abfe8f457be9da7ec6e42d6e47c0d70b88d56683a3603732b4314c88d",
    "qrels/test.tsv": "df2819294f47ee6cc2d18b50ff863e244ef4dde30fdd1c21a1aaed1600bf96a4",
  },
  cisi: {
    "corpus.jsonl.gz": "ec0c25dc6b71110e71975fd2b11f31b49ec043934836e0ed0e5807a7bb509c98",
    "queries.jsonl": "378dc77142f01e28ace85284a8df57188ff6cd97a3521d5f071695ee75ee7009",
    "qrels/test.tsv": "5ff417257cd005a90a06ad42f0468c791fb862f38cd9b53cac9e516ffe675011",
  },
};

/** The first of DATASET_ROOTS holding `rel` (a dataset folder or a file in one), or null. */
export function findDataset(rel) {
  for (const root of DATASET_ROOTS) {
    const path = join(root, rel);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * A dataset folder whose files match DATASET_SHA256: { dir } or { reason } (one line, why not).
 * Hashes each file once per process.
 */
export function checkedDataset(name) {
  const dir = findDataset(name);
  if (dir === null) return { reason: `dataset ${name}/ not found in ${DATASET_ROOTS.join(", ")}` };
  for (const [file, expected] of Object.entries(DATASET_SHA256[name] ?? {})) {
    const path = join(dir, file);
    if (!existsSync(path)) return { reason: `dataset ${name}: missing ${path}` };
    if (!statSync(path).isFile()) return { reason: `dataset ${name}: ${path} is not a regular file` };
    const actual = sha256File(path);
    if (actual !== expected)
      return { reason: `dataset ${name}: ${path} has sha256 ${actual}, expected ${expected}` };
  }
  return { dir };
}

const hashed = new Map();
function sha256File(path) {
  let h = hashed.get(path);
  if (h === undefined) {
    h = createHash("sha256").update(readFileSync(path)).digest("hex");
    hashed.set(path, h);
  }
  return h;
}

/** An optional dataset: its folder, or null after printing one line saying why it is skipped. */
export function optionalDataset(name) {
  const found = checkedDataset(name);
  if (found.dir !== undefined) return found.dir;
  console.error(`skipped: ${found.reason}`);
  return null;
}

/** A dataset (folder or file) the benchmark cannot run without: exits 2 with one line when absent or altered. */
export function requireDataset(rel) {
  const [name = "", ...rest] = rel.split("/");
  if (DATASET_SHA256[name] !== undefined) {
    const found = checkedDataset(name);
    if (found.dir === undefined) {
      console.error(
        `${found.reason} (set CANON_REASON_DATASETS to a folder holding it; see docs/datasets.md)`,
      );
      process.exit(2);
    }
    const path = join(found.dir, ...rest);
    if (existsSync(path)) return path;
  }
  const path = findDataset(rel);
  if (path === null) {
    console.error(
      `missing dataset ${rel} in ${DATASET_ROOTS.join(", ")} (set CANON_REASON_DATASETS to a folder holding it; see docs/datasets.md)`,
    );
    process.exit(2);
  }
  return path;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samplesMs) {
  const s = [...samplesMs].sort((a, b) => a - b);
  const round = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    n: s.length,
    min_ms: round(s[0] ?? null),
    p50_ms: round(percentile(s, 50)),
    p95_ms: round(percentile(s, 95)),
    p99_ms: round(percentile(s, 99)),
    max_ms: round(s[s.length - 1] ?? null),
  };
}

/** Deterministic PRNG (mulberry32) so query samples are the same on every run. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function writeResult(name, result) {
  const dir = join(REPO, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function machine() {
  return { node: process.version, platform: process.platform, arch: process.arch };
}
