// Shared helpers for the benchmarks: dataset paths, timing statistics, result files.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = join(REPO, "dist", "bin", "canon-reason.js");
/** Shared datasets live beside the repository (../shared/datasets); override with CANON_BENCH_DATASETS. */
export const DATASETS = resolve(process.env.CANON_BENCH_DATASETS ?? join(REPO, "..", "shared", "datasets"));

export function requireDataset(rel) {
  const path = join(DATASETS, rel);
  if (!existsSync(path)) {
    console.error(
      `missing dataset ${path} (set CANON_BENCH_DATASETS to the folder holding scifact/ and wikipedia-passages/)`,
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
