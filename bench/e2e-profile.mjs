// Where a warm `canon-reason run` on BEIR SciFact spends its time: the bundled CLI is run
// under `node --cpu-prof` (after one cold run builds the index), and the profile is
// summarized as the functions with the most self time. Writes bench/results/e2e-profile.txt.
//   node bench/e2e-profile.mjs
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, REPO, requireDataset } from "./lib.mjs";

const corpus = requireDataset("scifact/corpus.jsonl");
const QUESTION = "0-dimensional biomaterials show inductive properties.";
const PROFILES = 5;

const work = mkdtempSync(join(tmpdir(), "canon-bench-profile-"));
const self = new Map();
let total = 0;
try {
  const artifacts = join(work, "artifacts");
  const args = [CLI, "run", QUESTION, "--corpus", corpus, "--artifacts-dir", artifacts, "--json"];
  if (spawnSync(process.execPath, args).status !== 0) throw new Error("the cold run failed");
  for (let i = 0; i < PROFILES; i++) {
    const dir = join(work, `prof-${i}`);
    const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", dir, ...args]);
    if (r.status !== 0) throw new Error(`the warm run failed: ${r.stderr}`);
    for (const f of readdirSync(dir)) {
      const p = JSON.parse(readFileSync(join(dir, f), "utf8"));
      const byNode = new Map(p.nodes.map((n) => [n.id, n]));
      p.samples.forEach((id, k) => {
        const frame = byNode.get(id).callFrame;
        const where = frame.url === "" ? "" : ` ${frame.url.split("/").slice(-2).join("/")}`;
        const key = `${frame.functionName || "(anonymous)"}${where}`;
        const ms = (p.timeDeltas[k] ?? 0) / 1000 / PROFILES;
        total += ms;
        self.set(key, (self.get(key) ?? 0) + ms);
      });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
const text = [
  `# Warm \`run\` profile (bench/e2e-profile.mjs), Node ${process.version}: mean of ${PROFILES} processes`,
  "# File names are the esbuild bundles' (dist/bin/cli-run.js); (program), (idle) and (garbage collector) are V8's.",
  "",
  `## warm run on SciFact: ${total.toFixed(0)} ms sampled per process`,
  ...top.map(
    ([k, ms]) => `${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(1).padStart(6)} ms  ${k}`,
  ),
  "",
].join("\n");
writeFileSync(join(REPO, "bench", "results", "e2e-profile.txt"), text);
console.log(text);
