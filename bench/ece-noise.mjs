// How much expected calibration error a perfectly calibrated confidence would show by chance on
// each held-out set (issue 20): ECE over 10 bins is never 0 on a finite set, and on a few hundred
// cases its sampling noise is as large as the ≤ 0.05 target. For every set whose reliability table
// is in bench/results/confidence-heldout.json, each bin's outcomes are drawn as Bernoulli trials
// at the bin's mean confidence (a calibrated model's expected share right), 10,000 times with a
// fixed seed, and the ECE of each draw is taken the way eval computes it. Reported: the measured
// ECE beside the draws' mean and 5th-95th percentiles. Using the bin mean for every case of a bin
// slightly overstates the noise (a bin's true variance is at most n·p̄(1-p̄)); it reads no dataset,
// only the results file, so it is cheap and reproducible.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { machine, REPO, seededRandom, writeResult } from "./lib.mjs";

const SOURCE = join(REPO, "bench", "results", "confidence-heldout.json");
const DRAWS = 10_000;
const SEED = 20;
const round = (x) => Math.round(x * 10_000) / 10_000;

/** ECE of one draw: case-weighted mean over bins of |share right − mean confidence|. */
function drawnEce(bins, cases, random) {
  let ece = 0;
  for (const bin of bins) {
    let right = 0;
    for (let i = 0; i < bin.cases; i++) if (random() < bin.mean_confidence) right += 1;
    ece += (Math.abs(right / bin.cases - bin.mean_confidence) * bin.cases) / cases;
  }
  return ece;
}

const sets = {};
for (const [name, set] of Object.entries(JSON.parse(readFileSync(SOURCE, "utf8")))) {
  const measured = set?.min_confidence_0;
  if (!Array.isArray(measured?.reliability)) continue;
  const bins = measured.reliability.filter((bin) => bin.cases > 0);
  const cases = bins.reduce((n, bin) => n + bin.cases, 0);
  const random = seededRandom(SEED);
  const draws = Array.from({ length: DRAWS }, () => drawnEce(bins, cases, random)).sort((a, b) => a - b);
  const mean = draws.reduce((s, x) => s + x, 0) / DRAWS;
  const p95 = draws[Math.floor(DRAWS * 0.95)];
  sets[name] = {
    cases,
    measured_ece: measured.calibration_ece,
    calibrated_ece_mean: round(mean),
    calibrated_ece_p05: round(draws[Math.floor(DRAWS * 0.05)]),
    calibrated_ece_p95: round(p95),
    // Above the 95th percentile: more error than chance alone explains at this size.
    beyond_noise: measured.calibration_ece > p95,
  };
}
const result = {
  benchmark: "ece-noise",
  machine: machine(),
  source: "bench/results/confidence-heldout.json",
  draws: DRAWS,
  seed: SEED,
  sets,
};
console.log(JSON.stringify(sets, null, 2));
console.error(`wrote ${writeResult("ece-noise", result)}`);
