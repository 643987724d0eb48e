/**
 * The eval page (docs/operations/common-workflows.md, report pages): the summary metrics and a per-case table a team can sort and
 * filter (failed, insufficient, low nDCG, regressed), each case linked to its run's page. With
 * a baseline, regressed metrics and (when the baseline has its cases) regressed cases are
 * marked. Rows are plain server-rendered markup, so 1,000 cases stay light and print.
 */
import { GATED_METRICS, regressions } from "../eval/gate.js";
import {
  expectedCalibrationError,
  type Judged,
  reliabilityTable,
  riskCoverage,
  riskCoverageArea,
} from "../eval/metrics.js";
import { type EvalCaseLine, type EvalResults, type EvalSummaryFile, evalSeconds } from "../eval/results.js";
import { num, shell } from "./common.js";
import { type Html, html, type RenderedPage } from "./html.js";

export interface EvalBaseline {
  summary: Pick<EvalSummaryFile, "suite" | "metrics">;
  /** The baseline's cases by case id, when it is an eval folder (not just a summary.json). */
  cases: ReadonlyMap<string, EvalCaseLine> | null;
  tolerance: number;
}

export interface EvalPageInput extends EvalResults {
  baseline: EvalBaseline | null;
  /** A relative link to each case's run page, by run id; a run not found has none. */
  runLinks: ReadonlyMap<string, string>;
}

const CASE_METRICS = [
  ["ndcg_at_10", "nDCG@10"],
  ["recall_at_100", "Recall@100"],
  ["mrr_at_10", "MRR@10"],
  ["citation_precision", "citation precision"],
  ["answer_hit", "answer hit"],
] as const;

/** Why a case is worse than in the baseline; empty when it is not (or has no baseline case). */
export function caseRegressions(
  now: EvalCaseLine,
  before: EvalCaseLine | undefined,
  tolerance: number,
): string[] {
  if (before === undefined) return [];
  const out: string[] = [];
  if (before.verdict === "pass" && now.verdict === "fail") out.push("verification now fails");
  if (before.status === "answered" && now.status === "insufficient_evidence" && now.answerable !== false)
    out.push("no longer answered");
  for (const key of ["ndcg_at_10", "answer_hit", "citation_precision"]) {
    const a = before.metrics[key];
    const b = now.metrics[key];
    if (typeof a === "number" && (b === null || b === undefined || b < a - tolerance))
      out.push(`${key} ${num(a)} → ${num(b)}`);
  }
  return out;
}

function summaryTable(input: EvalPageInput): Html {
  const baseline = input.baseline;
  const regressed = new Map(
    baseline === null
      ? []
      : regressions(baseline.summary.metrics, input.summary.metrics, baseline.tolerance).map((r) => [
          r.metric,
          r,
        ]),
  );
  const rows = Object.entries(input.summary.metrics).map(([metric, m]) => {
    const before = baseline?.summary.metrics[metric]?.mean;
    const delta = before === undefined || before === null || m.mean === null ? null : m.mean - before;
    return html`<tr class="${regressed.has(metric) ? "regressed" : ""}" data-metric="${metric}"><td>${metric}${GATED_METRICS[metric] === undefined ? null : html` <span class="muted">(${GATED_METRICS[metric]} is better)</span>`}</td><td class="num">${num(m.mean)}</td><td class="num">${m.cases}</td>${
      baseline === null
        ? null
        : html`<td class="num">${num(before)}</td><td class="num">${delta === null ? "–" : `${delta >= 0 ? "+" : ""}${delta.toFixed(4)}`}</td><td>${regressed.has(metric) ? html`<span class="fail">REGRESSION</span>` : ""}</td>`
    }</tr>`;
  });
  return html`<table id="metrics"><thead><tr><th>metric</th><th class="num">mean</th><th class="num">cases</th>${
    baseline === null ? null : html`<th class="num">baseline</th><th class="num">change</th><th></th>`
  }</tr></thead><tbody>${rows}</tbody></table>${
    baseline === null
      ? null
      : regressed.size === 0
        ? html`<p class="pass">No metric is worse than the baseline by more than ${baseline.tolerance}.</p>`
        : html`<p class="alert" role="alert">${regressed.size} metric(s) regressed against the baseline (tolerance ${baseline.tolerance}): ${[...regressed.keys()].join(", ")}.</p>`
  }`;
}

const attr = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? String(v) : "");

function caseRow(c: EvalCaseLine, input: EvalPageInput): Html {
  const why =
    input.baseline === null
      ? []
      : caseRegressions(c, input.baseline.cases?.get(c.case_id), input.baseline.tolerance);
  const link = c.run_id === null ? undefined : input.runLinks.get(c.run_id);
  const failed = c.verdict === "fail";
  return html`<tr class="${failed ? "failed" : why.length > 0 ? "regressed" : ""}" data-case="${c.case_id}" data-status="${c.status}" data-verdict="${c.verdict}" data-regressed="${why.length > 0 ? "1" : "0"}" data-confidence="${attr(c.confidence)}"${CASE_METRICS.map(([k]) => html` data-${k}="${attr(c.metrics[k])}"`)}><td>${c.case_id}</td><td>${c.status === "answered" ? "answered" : c.status === "failed" ? html`<span class="fail" title="${c.error ?? ""}">model call failed</span>` : html`<span class="muted">insufficient</span>`}</td><td>${failed ? html`<span class="fail">FAIL</span>` : html`<span class="pass">pass</span>`}</td>${CASE_METRICS.map(([k]) => html`<td class="num">${num(c.metrics[k], 3)}</td>`)}<td class="num">${num(c.confidence, 3)}</td>${
    input.baseline?.cases == null ? null : html`<td>${why.join("; ")}</td>`
  }<td>${link === undefined ? html`<span class="muted">${c.run_id === null ? "no run" : "run not found"}</span>` : html`<a href="${link}">run</a>`}</td></tr>`;
}

/** Plot geometry of both charts: a square plot area inside margins, in SVG user units. */
const PLOT = { size: 200, left: 40, top: 10, bottom: 36, right: 10 } as const;
const px = (v: number) => (PLOT.left + v * PLOT.size).toFixed(1);
const py = (v: number) => (PLOT.top + (1 - v) * PLOT.size).toFixed(1);

/** Axes, ticks at 0, 0.5 and 1, and axis labels: presentation attributes only, no style, no script. */
function axes(xLabel: string, yLabel: string): Html {
  const ticks = [0, 0.5, 1];
  return html`<g stroke="#888" fill="none"><line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(0)}"/><line x1="${px(0)}" y1="${py(0)}" x2="${px(0)}" y2="${py(1)}"/></g><g fill="#444" font-size="10">${ticks.map(
    (t) =>
      html`<text x="${px(t)}" y="${(PLOT.top + PLOT.size + 14).toFixed(1)}" text-anchor="middle">${t}</text><text x="${(PLOT.left - 6).toFixed(1)}" y="${py(t)}" text-anchor="end" dominant-baseline="middle">${t}</text>`,
  )}<text x="${px(0.5)}" y="${(PLOT.top + PLOT.size + 30).toFixed(1)}" text-anchor="middle">${xLabel}</text><text x="10" y="${py(0.5)}" text-anchor="middle" transform="rotate(-90 10 ${py(0.5)})">${yLabel}</text></g>`;
}

const svgSize = `0 0 ${PLOT.left + PLOT.size + PLOT.right} ${PLOT.top + PLOT.size + PLOT.bottom}`;

/** The reliability diagram: per confidence bin, the share right (bar) against the diagonal. */
function reliabilityDiagram(judged: readonly Judged[]): Html {
  const bins = reliabilityTable(judged);
  const w = PLOT.size / bins.length;
  return html`<svg id="reliability-diagram" role="img" aria-labelledby="reliability-title" viewBox="${svgSize}" width="250" height="246" xmlns="http://www.w3.org/2000/svg"><title id="reliability-title">Reliability diagram: share of judged cases right, by confidence bin; the diagonal is perfect calibration</title>${axes("confidence", "share right")}<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#bbb" stroke-dasharray="4 3"/>${bins.map(
    (b, i) =>
      b.accuracy === null
        ? null
        : html`<rect data-bin="${i}" x="${(PLOT.left + i * w + 1).toFixed(1)}" y="${py(b.accuracy)}" width="${(w - 2).toFixed(1)}" height="${(b.accuracy * PLOT.size).toFixed(1)}" fill="#4a7fb5" fill-opacity="0.75"><title>${num(b.lo, 1)}–${num(b.hi, 1)}: ${b.cases} case(s), mean confidence ${num(b.mean_confidence, 3)}, share right ${num(b.accuracy, 3)}</title></rect><circle cx="${px(b.mean_confidence as number)}" cy="${py(b.accuracy)}" r="2.5" fill="#c0392b"/>`,
  )}</svg>`;
}

/** The risk–coverage curve: answering the most confident cases first, the share of answers wrong. */
function riskCoverageChart(judged: readonly Judged[]): Html {
  const curve = riskCoverage(judged);
  const points = curve.map((p) => `${px(p.coverage)},${py(p.risk)}`).join(" ");
  return html`<svg id="risk-coverage-curve" role="img" aria-labelledby="risk-coverage-title" viewBox="${svgSize}" width="250" height="246" xmlns="http://www.w3.org/2000/svg"><title id="risk-coverage-title">Risk–coverage curve: answering the most confident cases first, the share of answers that are wrong</title>${axes("coverage (share answered)", "risk (share wrong)")}${curve.length === 0 ? null : html`<polyline points="${points}" fill="none" stroke="#4a7fb5" stroke-width="2"/>`}</svg>`;
}

/**
 * Calibration of the judged cases (those whose `correct` is known): ECE, the area under the
 * risk–coverage curve, both charts and the reliability table. Nothing to draw without judged
 * cases (an eval written before `correct` existed, or a suite without judgments).
 */
function calibrationSection(cases: readonly EvalCaseLine[]): Html {
  const judged: Judged[] = cases.flatMap((c) => {
    const correct = c.metrics.correct;
    return (correct === 0 || correct === 1) && typeof c.confidence === "number"
      ? // cases.jsonl is untrusted input: a confidence outside [0, 1] is drawn at the edge.
        [{ confidence: Math.min(1, Math.max(0, c.confidence)), correct }]
      : [];
  });
  if (judged.length === 0)
    return html`<section id="calibration"><h2>Calibration</h2><p class="muted">No judged cases: calibration needs cases whose answer can be judged right or wrong (run with <code>--min-confidence 0</code> to judge every case).</p></section>`;
  const table = html`<table id="reliability"><thead><tr><th>confidence</th><th class="num">cases</th><th class="num">mean confidence</th><th class="num">share right</th></tr></thead><tbody>${reliabilityTable(
    judged,
  ).map(
    (b) =>
      html`<tr><td>${num(b.lo, 1)}–${num(b.hi, 1)}</td><td class="num">${b.cases}</td><td class="num">${num(b.mean_confidence, 3)}</td><td class="num">${num(b.accuracy, 3)}</td></tr>`,
  )}</tbody></table>`;
  return html`<section id="calibration"><h2>Calibration</h2><p>${judged.length} judged case(s) · expected calibration error <strong>${num(expectedCalibrationError(judged))}</strong> · area under the risk–coverage curve <strong>${num(riskCoverageArea(judged))}</strong></p><div class="charts">${reliabilityDiagram(judged)}${riskCoverageChart(judged)}</div>${table}</section>`;
}

export function renderEvalPage(input: EvalPageInput): RenderedPage {
  const s = input.summary;
  const seconds = evalSeconds(input);
  const failed = input.cases.filter((c) => c.verdict === "fail").length;
  const insufficient = input.cases.filter((c) => c.status === "insufficient_evidence").length;
  const perCase = input.baseline?.cases != null;
  const sortable = (key: string, label: string, type: "number" | "text", numeric = false) =>
    html`<th class="${numeric ? "num" : ""}"><button type="button" data-sort="${key}" data-type="${type}">${label}</button></th>`;
  const heading = html`<h1>Eval report: ${s.suite}</h1>
<div class="muted">${input.cases.length} case(s)${s.config?.preset === undefined ? null : `, preset ${s.config.preset}`}${seconds === undefined ? null : `, ${seconds} s`} · ${failed} failed verification · ${insufficient} insufficient</div>`;
  const controls = html`<div class="controls">
<label>Show <select id="filter"><option value="all">all cases</option><option value="failed">failed verification</option><option value="insufficient">insufficient evidence</option><option value="low-ndcg">low nDCG@10</option>${perCase ? html`<option value="regressed">regressed</option>` : null}</select></label>
<label>nDCG@10 below <input id="ndcg-threshold" type="number" min="0" max="1" step="0.05" value="0.5"></label>
<label>Case <input id="search" type="search" placeholder="case id"></label>
<span><span id="shown">${input.cases.length}</span> of ${input.cases.length} shown</span></div>`;
  const table = html`<table id="cases"><thead><tr>${sortable("case", "case", "text")}<th>status</th><th>verdict</th>${CASE_METRICS.map(([k, label]) => sortable(k, label, "number", true))}${sortable("confidence", "confidence", "number", true)}${perCase ? html`<th>regression</th>` : null}<th>run</th></tr></thead><tbody>${input.cases.map((c) => caseRow(c, input))}</tbody></table>`;
  return shell(
    `canon-reason eval ${s.suite}`,
    heading,
    html`<section id="summary"><h2>Summary metrics</h2>${summaryTable(input)}</section>${calibrationSection(input.cases)}<section id="case-table"><h2>Cases</h2>${controls}${table}</section>`,
  );
}
