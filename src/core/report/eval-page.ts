/**
 * The eval page (docs/operations/common-workflows.md, report pages): the summary metrics and a per-case table a team can sort and
 * filter (failed, insufficient, low nDCG, regressed), each case linked to its run's page. With
 * a baseline, regressed metrics and (when the baseline has its cases) regressed cases are
 * marked. Rows are plain server-rendered markup, so 1,000 cases stay light and print.
 */
import { GATED_METRICS, regressions } from "../eval/gate.js";
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
  const link = input.runLinks.get(c.run_id);
  const failed = c.verdict === "fail";
  return html`<tr class="${failed ? "failed" : why.length > 0 ? "regressed" : ""}" data-case="${c.case_id}" data-status="${c.status}" data-verdict="${c.verdict}" data-regressed="${why.length > 0 ? "1" : "0"}" data-confidence="${attr(c.confidence)}"${CASE_METRICS.map(([k]) => html` data-${k}="${attr(c.metrics[k])}"`)}><td>${c.case_id}</td><td>${c.status === "answered" ? "answered" : html`<span class="muted">insufficient</span>`}</td><td>${failed ? html`<span class="fail">FAIL</span>` : html`<span class="pass">pass</span>`}</td>${CASE_METRICS.map(([k]) => html`<td class="num">${num(c.metrics[k], 3)}</td>`)}<td class="num">${num(c.confidence, 3)}</td>${
    input.baseline?.cases == null ? null : html`<td>${why.join("; ")}</td>`
  }<td>${link === undefined ? html`<span class="muted">run not found</span>` : html`<a href="${link}">run</a>`}</td></tr>`;
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
    html`<section id="summary"><h2>Summary metrics</h2>${summaryTable(input)}</section><section id="case-table"><h2>Cases</h2>${controls}${table}</section>`,
  );
}
