/** The eval page's calibration section (issue 20 item 2): inline SVG charts, no script, the CSP kept. */
import { describe, expect, it } from "vitest";
import type { EvalCaseLine } from "../../../src/core/eval/results.js";
import { renderEvalPage } from "../../../src/core/report/eval-page.js";

const RUN = `run_v1_${"a".repeat(64)}`;

function line(i: number, confidence: number, correct: number | null, answerable = true): EvalCaseLine {
  return {
    case_id: `c${i}<script>`,
    run_id: RUN,
    status: "answered",
    verdict: "pass",
    answerable,
    confidence,
    metrics: { correct, ndcg_at_10: 1 },
  };
}

const page = (cases: EvalCaseLine[]) =>
  renderEvalPage({
    summary: { suite: "s", metrics: {} },
    cases,
    timings: null,
    baseline: null,
    runLinks: new Map(),
  });

describe("eval page: reliability diagram and risk–coverage curve", () => {
  const cases = Array.from({ length: 40 }, (_, i) => line(i, (i % 10) / 10 + 0.05, i % 3 === 0 ? 0 : 1));

  it("draws both charts as inline SVG, one bar per non-empty bin, and the reliability table", () => {
    const p = page(cases);
    expect(p.html).toContain('<svg id="reliability-diagram"');
    expect(p.html).toContain('<svg id="risk-coverage-curve"');
    expect(p.html.match(/<rect data-bin=/g)).toHaveLength(10);
    expect(p.html).toMatch(/<polyline points="[\d., ]+"/);
    expect(p.html).toContain('<table id="reliability">');
    expect(p.html).toMatch(/expected calibration error <strong>0\.\d{4}<\/strong>/);
  });

  it("adds no script and no inline style: the CSP of a page without the charts is unchanged", () => {
    const withCharts = page(cases);
    const svgs = withCharts.html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(2);
    for (const svg of svgs) {
      expect(svg).not.toMatch(/<script|\son\w+=|style=|javascript:|href=/i);
    }
    expect(withCharts.csp).toBe(page([]).csp);
    expect(withCharts.html).not.toContain("<script>alert");
  });

  it("says there is nothing to draw without judged cases (an old eval, or no judgments)", () => {
    // null, absent, or not 0/1 (a hand-edited cases.jsonl): not judged.
    const p = page([
      line(1, 0.5, null),
      { ...line(2, 0.5, 1), metrics: {} },
      line(3, 0.5, 0.5),
      line(4, 0.5, 7),
    ]);
    expect(p.html).not.toContain("<svg");
    expect(p.html).toContain("No judged cases");
  });

  it("keeps every coordinate inside the plot for hostile confidences (out of range, huge)", () => {
    const p = page([line(1, -5, 1), line(2, 1e308, 0), line(3, 1, 1), line(4, 0, 0)]);
    for (const m of p.html.matchAll(/(?:x|y|cx|cy|width|height)="(-?[\d.]+)"/g)) {
      const v = Number(m[1]);
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThanOrEqual(300);
    }
  });
});
