/**
 * The run page (docs/operations/common-workflows.md, report pages): what was asked, what was answered and exactly why. Pure: takes the
 * parsed run, the checks run now and the volatile timings, returns a self-contained document.
 * A damaged run still renders (what does not parse is shown as such), and a failed check is
 * the first thing on the page.
 */

import type { RunTimings } from "../artifact/timings.js";
import type { RunView } from "../artifact/view.js";
import { sha256Hex } from "../canonical.js";
import type { Claim, Support } from "../models/claim.js";
import type { RetrievalHit, StepOutput, TraceEvent } from "../models/trace.js";
import type { CheckResult, Finding, VerificationReport } from "../models/verification-report.js";
import { signatureState } from "../verify/checks/signature.js";
import { recordedLabels } from "../verify/inventory.js";
import { clip, num, shell, splitAtSpan, verdictBadge, verdictLine } from "./common.js";
import { type Html, html, type RenderedPage } from "./html.js";

export interface RunPageInput {
  view: RunView;
  /** The checks, run now: the page never takes the stored report.json's word for it. */
  verification: VerificationReport;
  /** volatile/timings.json, when it parses. */
  timings: RunTimings | null;
}

const runIdOf = (view: RunView) =>
  view.run?.run_id ?? view.answer?.run_id ?? view.trace?.header.run_id ?? "(unknown run)";

function outputs(view: RunView): StepOutput[] {
  return (view.trace?.events ?? []).flatMap((e) => (e.type === "step_finished" ? [e.output] : []));
}

export function renderRunPage(input: RunPageInput): RenderedPage {
  const { view, verification } = input;
  const runId = runIdOf(view);
  const failed = verification.verdict === "fail";
  const sections = [
    answerSection(view),
    claimsSection(view),
    retrievalSection(view),
    provenanceSection(view, verification),
    timelineSection(view, input.timings),
  ];
  // A failed check is impossible to miss: the page opens on it.
  const ordered = failed
    ? [verificationSection(verification, view), ...sections]
    : [sections[0], sections[1], verificationSection(verification, view), ...sections.slice(2)];
  const heading = html`<h1>Run report ${verdictBadge(verification.verdict)}</h1>
<div class="id">${runId}</div>
<nav class="toc"><a href="#verification">Verification</a><a href="#answer">Answer</a><a href="#claims">Claims and citations</a><a href="#retrieval">Retrieval</a><a href="#provenance">Provenance</a><a href="#trace">Trace</a></nav>`;
  return shell(`${failed ? "FAILED " : ""}canon-reason run ${runId.slice(0, 23)}`, heading, html`${ordered}`);
}

function answerSection(view: RunView): Html {
  const answer = view.answer;
  const question = answer?.question ?? view.spec?.description ?? null;
  const insufficient = outputs(view).find((o) => o.type === "insufficient_evidence");
  let body: Html;
  if (answer === null)
    body = html`<p class="note">answer.json is unreadable: see the verification findings.</p>`;
  else if (answer.status === "answered")
    body = html`<p class="answer" id="final-answer">${answer.answer ?? ""}</p>
<p>Confidence <strong>${num(answer.claims[0]?.confidence)}</strong> <span class="muted">(coverage of the question's weight by the cited evidence, not a probability)</span></p>`;
  else
    body = html`<p class="answer insufficient" id="final-answer"><strong>Insufficient evidence.</strong> ${answer.uncertainty ?? ""}</p>
${
  insufficient?.type === "insufficient_evidence"
    ? html`<dl class="kv"><dt>reasoner</dt><dd>${insufficient.reasoner.id} ${insufficient.reasoner.version}</dd><dt>relevant evidence</dt><dd>${insufficient.relevant_evidence} (required ${insufficient.required})</dd><dt>best candidate's confidence</dt><dd>${num(insufficient.confidence)}</dd></dl>`
    : null
}`;
  return html`<section id="answer"><h2>Question and answer</h2>
<p><strong>Question:</strong> <span id="question">${question ?? "(unreadable)"}</span></p>
${body}</section>`;
}

/** The claims the answer stands on, and any the verify step rejected, with why. */
function claimsSection(view: RunView): Html {
  const out = outputs(view);
  const finalIds = out.flatMap((o) => (o.type === "finalize" ? o.claim_ids : []));
  const rejected = out.flatMap((o) =>
    o.type === "verify" ? o.decisions.filter((d) => d.status === "rejected") : [],
  );
  const byId = new Map(view.claims.map((c) => [c.id, c]));
  const shown: Array<{ claim: Claim; reasons: string[] }> = [
    ...finalIds.flatMap((id) => {
      const claim = byId.get(id);
      return claim === undefined ? [] : [{ claim, reasons: [] }];
    }),
    ...rejected.flatMap((d) => {
      const claim = byId.get(d.result_claim_id);
      return claim === undefined ? [] : [{ claim, reasons: d.reasons }];
    }),
  ];
  let n = 0;
  const claims = shown.map(({ claim, reasons }) => {
    const citations = claim.supports.filter((s) => s.kind === "evidence");
    return html`<article class="claim"><h3>Claim <span class="badge ${claim.status === "validated" ? "pass" : "fail"}">${claim.status}</span> <span class="muted">confidence ${num(claim.confidence)} · ${claim.claim_type}</span></h3>
<p>${claim.statement}</p>
${reasons.length > 0 ? html`<ul>${reasons.map((r) => html`<li class="fail">${r}</li>`)}</ul>` : null}
<div class="id">${claim.id}</div>
${citations.map((s) => citationBlock(view, s, ++n))}</article>`;
  });
  return html`<section id="claims"><h2>Claims and citations</h2>
${claims.length > 0 ? claims : html`<p class="muted">No claim: the reasoner found the evidence insufficient.</p>`}</section>`;
}

function hitFor(view: RunView, docId: string, span: readonly [number, number]): RetrievalHit | undefined {
  return view.retrieval?.hits.find(
    (h) => h.doc_id === docId && h.span[0] === span[0] && h.span[1] === span[1],
  );
}

/** One citation: its document, rank and score, and the evidence chunk with the cited bytes marked. */
function citationBlock(view: RunView, support: Support, n: number): Html {
  const ev = view.evidence.find((e) => e.id === support.ref);
  if (ev === undefined || support.span === undefined)
    return html`<div class="citation"><p class="fail">Citation [${n}] names evidence ${support.ref}, which the trace does not record.</p></div>`;
  const bytes = view.files.get(ev.content_path);
  const hit = hitFor(view, ev.doc_id, ev.span);
  const [s, e] = support.span;
  const split =
    bytes === undefined
      ? { problem: `${ev.content_path} is missing from the run` }
      : splitAtSpan(bytes, support.span);
  const hashOk =
    bytes !== undefined && "cited" in split && sha256Hex(bytes.subarray(s, e)) === support.sha256;
  const meta = html`<dl class="kv">
<dt>document</dt><dd>${ev.doc_id}${hit?.title === undefined ? null : html` <span class="muted">— ${hit.title.text}</span>`}</dd>
<dt>rank, score</dt><dd>${hit === undefined ? "not in the recorded ranking" : html`${hit.rank}, ${num(hit.score, 6)}`}</dd>
<dt>bytes in document</dt><dd>${ev.span[0] + s}–${ev.span[0] + e} <span class="muted">(evidence ${ev.span[0]}–${ev.span[1]}, cited ${s}–${e} within it)</span></dd>
<dt>sha256 of cited bytes</dt><dd><span class="mono">${support.sha256 ?? "(none recorded)"}</span> ${hashOk ? html`<span class="pass">matches the bytes</span>` : html`<span class="fail">does NOT match the bytes</span>`}</dd>
</dl>`;
  const chunk =
    "problem" in split
      ? html`<p class="fail">Cannot highlight: ${split.problem}.</p>`
      : html`<div class="chunk" data-evidence="${ev.sha256}">${split.before}<mark id="cite-${n}" data-path="${ev.content_path}" data-start="${s}" data-end="${e}">${split.cited}</mark>${split.after}</div>`;
  return html`<div class="citation"><h3>Citation [${n}]</h3>${meta}${chunk}</div>`;
}

function retrievalSection(view: RunView): Html {
  const r = view.retrieval;
  if (r === null)
    return html`<section id="retrieval"><h2>Retrieval</h2><p class="muted">No retrieval result is recorded.</p></section>`;
  const cited = new Set(
    view.claims.flatMap((c) =>
      c.supports.flatMap((s) => {
        const ev = view.evidence.find((e) => e.id === s.ref);
        return ev === undefined ? [] : [`${ev.doc_id}\u0000${ev.span[0]}`];
      }),
    ),
  );
  const rows = r.hits.map(
    (h) =>
      html`<tr><td class="num">${h.rank}</td><td>${h.doc_id}${h.title === undefined ? null : html`<div class="muted">${h.title.text}</div>`}</td><td class="num">${num(h.score, 6)}</td><td class="num">${h.span[0]}–${h.span[1]}</td><td>${cited.has(`${h.doc_id}\u0000${h.span[0]}`) ? "cited" : ""}</td></tr>`,
  );
  return html`<section id="retrieval"><h2>Retrieval</h2>
<p>Query <q>${r.query}</q>, top ${r.top_k}.</p>
<table><thead><tr><th class="num">rank</th><th>document</th><th class="num">score</th><th class="num">bytes</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function checkRow(check: CheckResult, findings: readonly Finding[]): Html {
  return html`<tr class="${check.passed ? "" : "failed"}" id="check-${check.name}" data-passed="${check.passed ? "1" : "0"}"><td>${check.passed ? html`<span class="pass">pass</span>` : html`<span class="fail">FAIL</span>`}</td><td><strong>${check.name}</strong><div class="muted mono">${check.invariant}</div></td><td>${check.details}${
    findings.length > 0
      ? html`<ul class="findings">${findings.map((f) => html`<li><span class="${f.severity === "error" ? "fail" : "muted"}">${f.severity}</span> <code>${f.code}</code> ${f.message}</li>`)}</ul>`
      : null
  }</td></tr>`;
}

function verificationSection(report: VerificationReport, view: RunView): Html {
  const failedChecks = report.checks.filter((c) => !c.passed);
  // Failed checks first: the reader needs them before the long list of passes.
  const checks = [...failedChecks, ...report.checks.filter((c) => c.passed)];
  const stored = view.report?.verdict;
  return html`<section id="verification"><h2>Verification</h2>
${
  report.verdict === "fail"
    ? html`<p class="alert" role="alert" id="verification-failed">Verification FAILED: ${failedChecks.length} of ${report.summary.checks} checks failed${failedChecks.length > 0 ? html` (${failedChecks.map((c) => c.name).join(", ")})` : null}. Do not rely on this run.</p>`
    : null
}
<p>${verdictLine(report)}. Checked now by this verifier, independently of the code that produced the run${stored === undefined ? "; the run holds no readable report.json" : html`; the stored report.json says <strong>${stored}</strong>`}.</p>
<table><thead><tr><th></th><th>check</th><th>what it found</th></tr></thead><tbody>${checks.map((c) =>
    checkRow(
      c,
      report.failures.filter((f) => f.check === c.name),
    ),
  )}</tbody></table></section>`;
}

function provenanceSection(view: RunView, report: VerificationReport): Html {
  const inputs = view.run?.inputs;
  const p = view.retrieval?.provenance;
  const state = signatureState(report.checks);
  const keyName = view.signature?.public_key_sha256 ?? "";
  // Only a signature checked against an Ed25519 key is "verified"; one whose key is not at hand is not.
  const signature =
    state === "unsigned" && view.signature === null
      ? "unsigned"
      : state === "verified"
        ? html`<span class="pass">signed (Ed25519), verified</span> <span class="muted">key sha256 ${keyName}</span>`
        : state === "not verified"
          ? html`<span class="fail">signed, not verified</span> <span class="muted">the key it names (sha256 ${keyName}) is neither carried nor given</span>`
          : html`<span class="fail">signed, does NOT verify</span>`;
  const row = (label: string, value: Html | string | number | null | undefined) =>
    html`<dt>${label}</dt><dd>${value ?? "–"}</dd>`;
  return html`<section id="provenance"><h2>Provenance</h2><dl class="kv">
${row("run id", runIdOf(view))}
${row("manifest root digest", view.manifest?.root_digest ?? "(no readable manifest.json)")}
${row("signature", signature)}
${row("spec id", view.spec?.id)}
${row("plan id", view.plan?.id)}
${row("trace id", view.run?.trace_id)}
${row("producer", inputs === undefined ? null : `${inputs.producer.name} ${inputs.producer.version}`)}
${row("reasoner", inputs === undefined ? null : `${inputs.runtime.reasoner.id} ${inputs.runtime.reasoner.version}`)}
${row("tools", inputs === undefined ? null : html`${inputs.runtime.tools.map((t) => html`<div>${t.name} ${t.version} <span class="muted mono">config sha256 ${t.fingerprint}</span></div>`)}`)}
${row("preset, seed", inputs === undefined ? null : `${inputs.preset}, ${inputs.seed}`)}
${row("corpus snapshot", p === undefined ? null : `sha256:${p.corpus_snapshot} (${p.documents} documents, ${p.chunks} chunks)`)}
${row("index", p === undefined ? null : `sha256:${p.index_hash}`)}
${row(
  "index parameters",
  p === undefined
    ? null
    : `analyzer ${p.analyzer.name} ${p.analyzer.version}, k1 ${p.k1}, b ${p.b}, chunk ${p.chunk_chars} chars, overlap ${p.overlap_chars}, titles ${p.index_titles ? "indexed" : "not indexed"}`,
)}
${row("corpus limits", p === undefined ? null : `${p.limits.max_bytes} bytes, ${p.limits.max_documents} documents, ${p.limits.max_chunks} chunks`)}
${row(
  "recorded, not verified",
  html`${recordedLabels(view.files).map((l) => html`<div><span class="mono">${l.field}</span> = ${l.value} <span class="muted">${l.how}</span></div>`)}`,
)}
</dl></section>`;
}

function eventSummary(e: TraceEvent): string {
  switch (e.type) {
    case "step_started":
      return `${e.kind} started`;
    case "tool_called":
      return `called ${e.call.tool} #${e.call.index} ${clip(JSON.stringify(e.call.args), 200)}`;
    case "tool_returned": {
      if (!e.result.ok) return `tool failed: ${clip(e.result.error ?? "no message", 200)}`;
      const hits = (e.result.payload as { hits?: unknown } | undefined)?.hits;
      return Array.isArray(hits) ? `returned ${hits.length} hit(s)` : "returned";
    }
    case "evidence_registered":
      return `evidence ${e.evidence.doc_id} bytes ${e.evidence.span[0]}–${e.evidence.span[1]}`;
    case "claim_emitted":
      return `claim ${e.claim.status}: ${clip(e.claim.statement, 120)}`;
    case "step_finished":
      return `${e.kind} finished: ${e.output.type}`;
  }
}

function timelineSection(view: RunView, timings: RunTimings | null): Html {
  const trace = view.trace;
  if (trace === null)
    return html`<section id="trace"><h2>Trace</h2><p class="note">trace.jsonl is unreadable: see the verification findings.</p></section>`;
  const steps: Array<{ node: string; kind: string; events: TraceEvent[] }> = [];
  for (const e of trace.events) {
    const last = steps.at(-1);
    if (last !== undefined && last.node === e.node_id) last.events.push(e);
    else
      steps.push({
        node: e.node_id,
        kind: e.type === "step_started" || e.type === "step_finished" ? e.kind : "?",
        events: [e],
      });
  }
  const durations = new Map((timings?.steps ?? []).map((s) => [s.node_id, s.ms]));
  const longest = Math.max(0, ...durations.values());
  const items = steps.map((step) => {
    const ms = durations.get(step.node);
    return html`<details><summary><strong>${step.kind}</strong> <span class="muted">${step.events.length} event(s)</span>${
      ms === undefined
        ? null
        : html` · <span class="mono">${num(ms, 3)} ms</span> <meter min="0" max="${longest || 1}" value="${ms}"></meter>`
    }</summary><ol class="timeline">${step.events.map((e) => html`<li><span class="mono muted">#${e.idx}</span> ${e.type}: ${eventSummary(e)}</li>`)}</ol></details>`;
  });
  const note =
    timings?.steps === undefined
      ? html`<p class="muted">No step durations: volatile/timings.json is absent, unreadable or from a run made before they were recorded.</p>`
      : html`<p class="muted">Durations are wall-clock time from volatile/timings.json: never fingerprinted, never verified.${timings.prepare_ms === undefined ? null : ` Preparing the corpus and index took ${num(timings.prepare_ms, 3)} ms.`}</p>`;
  return html`<section id="trace"><h2>Trace</h2>${note}${items}</section>`;
}
