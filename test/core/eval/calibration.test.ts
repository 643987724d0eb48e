/** Calibration metrics (issue 20 item 2): ECE, the reliability table, the risk–coverage curve and its area. */
import { describe, expect, it } from "vitest";
import {
  expectedCalibrationError,
  type Judged,
  reliabilityTable,
  riskCoverage,
  riskCoverageArea,
} from "../../../src/core/eval/metrics.js";

const j = (confidence: number, correct: 0 | 1): Judged => ({ confidence, correct });

describe("reliability table and ECE", () => {
  it("is 0 for a perfectly calibrated set and the gap otherwise", () => {
    // Five cases at 0.8, four of them right: calibrated.
    const calibrated = [j(0.8, 1), j(0.8, 1), j(0.8, 1), j(0.8, 1), j(0.8, 0)];
    expect(expectedCalibrationError(calibrated)).toBeCloseTo(0, 12);
    // Always 0.9, never right: gap 0.9.
    expect(expectedCalibrationError([j(0.9, 0), j(0.9, 0)])).toBeCloseTo(0.9, 12);
    expect(expectedCalibrationError([])).toBeNull();
  });

  it("bins [lo, hi), with 1 in the last bin, and keeps empty bins with nulls", () => {
    const t = reliabilityTable([j(0, 0), j(0.1, 1), j(0.99, 1), j(1, 1)]);
    expect(t).toHaveLength(10);
    expect(t[0]?.cases).toBe(1);
    expect(t[1]?.cases).toBe(1);
    expect(t[9]?.cases).toBe(2);
    expect(t[5]).toEqual({ lo: 0.5, hi: 0.6, cases: 0, mean_confidence: null, accuracy: null });
  });

  it("weighs each bin by its cases", () => {
    // 3 cases at 0.25 (1 right: gap 0.0833) and 1 at 0.95 (right: gap 0.05).
    const e = expectedCalibrationError([j(0.25, 1), j(0.25, 0), j(0.25, 0), j(0.95, 1)]);
    expect(e).toBeCloseTo((3 * Math.abs(0.25 - 1 / 3) + 0.05) / 4, 12);
  });
});

describe("risk–coverage", () => {
  it("answers the most confident first; ties are answered together", () => {
    const curve = riskCoverage([j(0.9, 1), j(0.5, 0), j(0.5, 1), j(0.1, 0)]);
    expect(curve).toEqual([
      { threshold: 0.9, coverage: 0.25, risk: 0 },
      { threshold: 0.5, coverage: 0.75, risk: 1 / 3 },
      { threshold: 0.1, coverage: 1, risk: 0.5 },
    ]);
  });

  it("has the smallest area when right answers rank first, the largest when wrong ones do", () => {
    const good = [j(0.9, 1), j(0.8, 1), j(0.2, 0), j(0.1, 0)];
    const bad = [j(0.9, 0), j(0.8, 0), j(0.2, 1), j(0.1, 1)];
    const g = riskCoverageArea(good) as number;
    const b = riskCoverageArea(bad) as number;
    expect(g).toBeCloseTo((0 + 0 + 1 / 3 + 0.5) / 4, 12);
    expect(b).toBeCloseTo((1 + 1 + 2 / 3 + 0.5) / 4, 12);
    expect(riskCoverageArea([])).toBeNull();
    // Confidence that does not depend on the order of the input.
    expect(riskCoverageArea([...good].reverse())).toBe(g);
  });
});
