/**
 * Layer-by-layer comparison of two runs (docs/design.md §6), by meaning rather than by file: each layer
 * is a projection of the run onto the facts that belong to it. Retrieval parameters
 * (chunking, analyzer, k1, b, top-k) belong to `index` wherever they are recorded; the
 * reasoner's identity and version to `reasoner`. Content ids are left out of every
 * projection: they change whenever anything upstream changes and explain nothing.
 */

import { retrieveToolOf } from "../artifact/names.js";
import type { RunView } from "../artifact/view.js";
import { sha256Hex } from "../canonical.js";
import { INDEX_PARAM_KEYS } from "../retrieval/index-params.js";

export const LAYERS = [
  "producer",
  "spec",
  "plan",
  "runtime",
  "corpus",
  "index",
  "retrieval",
  "evidence",
  "reasoner",
  "verification",
  "answer",
] as const;
export type Layer = (typeof LAYERS)[number];

const INDEX_KEYS = ["top_k", ...INDEX_PARAM_KEYS];

function omit(object: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object ?? {}).filter(([k]) => !keys.includes(k)));
}

function pick(object: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object ?? {}).filter(([k]) => keys.includes(k)));
}

/** Names a chunk by where it is, not by ids that move with every upstream change. */
function evidenceKey(view: RunView, evidenceId: string): string {
  const ev = view.evidence.find((e) => e.id === evidenceId);
  return ev === undefined ? `unknown:${evidenceId}` : `${ev.doc_id}@${ev.span[0]}-${ev.span[1]}`;
}

/** The derive step's outputs, by the reasoner that made them; claims by what the run concluded. */
function reasonerProjection(view: RunView): unknown {
  const run = view.run?.inputs;
  const outputs = (view.trace?.events ?? []).flatMap((e) =>
    e.type === "step_finished" && (e.output.type === "derive" || e.output.type === "insufficient_evidence")
      ? [e.output]
      : [],
  );
  return {
    reasoner: run?.runtime.reasoner ?? null,
    outputs: outputs.map((o) =>
      o.type === "derive"
        ? {
            type: o.type,
            reasoner: o.reasoner,
            statement: o.statement,
            citations: o.citations.map((c) => ({
              chunk: evidenceKey(view, c.evidence_id),
              span: c.span,
              sha256: c.sha256,
            })),
            // A model's recorded response belongs to the reasoner, even when its answer reads the same.
            ...(o.model_call === undefined ? {} : { model_call: o.model_call.sha256 }),
          }
        : {
            type: o.type,
            reasoner: o.reasoner,
            reason: o.reason,
            ...(o.model_call === undefined ? {} : { model_call: o.model_call.sha256 }),
          },
    ),
    claims: view.claims.map((c) => ({
      statement: c.statement,
      status: c.status,
      confidence: c.confidence,
    })),
  };
}

/** One projection per layer: the facts of a run that belong to it. */
const PROJECTIONS: { readonly [L in Layer]: (view: RunView) => unknown } = {
  producer: (view) => ({
    run: view.run?.inputs.producer ?? null,
    trace: view.trace?.header.producer ?? null,
  }),
  spec: (view) => {
    if (view.spec === null) return null;
    const { id: _id, constraints, ...rest } = view.spec;
    return { ...rest, constraints: omit(constraints, [...INDEX_KEYS, "corpus"]) };
  },
  plan: (view) =>
    view.plan === null
      ? null
      : {
          preset: view.plan.preset,
          nodes: view.plan.nodes.map((n) => ({
            kind: n.kind,
            deps: n.deps.map((d) => view.plan?.nodes.find((m) => m.id === d)?.kind ?? "missing"),
            params: omit(n.params, [...INDEX_KEYS, "reasoner"]),
            tools: n.tool_requests.map((r) => ({ tool: r.tool, args: omit(r.args, INDEX_KEYS) })),
          })),
        },
  runtime: (view) => {
    const run = view.run?.inputs;
    return {
      seed: run?.seed ?? null,
      schema_versions: run?.schema_versions ?? null,
      tools: (run?.runtime.tools ?? []).map((t) => ({
        name: t.name,
        version: t.version,
        limits: (t.config as { limits?: unknown }).limits ?? null,
      })),
    };
  },
  corpus: (view) => {
    const provenance = view.retrieval?.provenance;
    return {
      snapshot: provenance?.corpus_snapshot ?? view.spec?.constraints.corpus ?? null,
      documents: provenance?.documents ?? null,
    };
  },
  index: (view) => {
    const run = view.run?.inputs;
    const provenance = view.retrieval?.provenance;
    const retrieveTool = run === undefined ? undefined : retrieveToolOf(run.runtime);
    return {
      spec: pick(view.spec?.constraints, INDEX_KEYS),
      plan: pick(view.plan?.nodes.find((n) => n.kind === "gather")?.params, INDEX_KEYS),
      built: provenance === undefined ? null : omit(provenance, ["corpus_snapshot", "documents", "limits"]),
      tool:
        retrieveTool === undefined
          ? null
          : pick(retrieveTool.config, ["analyzer", "k1", "b", "chunk_chars", "overlap_chars", "index_hash"]),
    };
  },
  // Keyed by chunk location, so a change reads as "doc@start-end.score", not "[3].score".
  retrieval: (view) =>
    Object.fromEntries(
      (view.retrieval?.hits ?? []).map((h) => [
        `${h.doc_id}@${h.span[0]}-${h.span[1]}`,
        { rank: h.rank, score: h.score },
      ]),
    ),
  // Hash the bytes actually present, not the recorded sha256: a tampered file shows here.
  evidence: (view) =>
    Object.fromEntries(
      view.evidence.map((ev) => {
        const bytes = view.files.get(ev.content_path);
        const actual = bytes === undefined ? "missing" : sha256Hex(bytes);
        return [`${ev.doc_id}@${ev.span[0]}-${ev.span[1]}`, { recorded: ev.sha256, actual }];
      }),
    ),
  reasoner: reasonerProjection,
  verification: (view) =>
    view.report === null
      ? null
      : {
          verdict: view.report.verdict,
          checks: view.report.checks.map((c) => `${c.name}:${c.passed ? "pass" : "fail"}`),
          failures: view.report.failures.map((f) => `${f.check}:${f.code}`),
        },
  answer: (view) =>
    view.answer === null
      ? null
      : {
          status: view.answer.status,
          answer: view.answer.answer,
          uncertainty: view.answer.uncertainty,
          citations: view.answer.claims.flatMap((c) =>
            c.citations.map((q) => ({ doc_id: q.doc_id, doc_span: q.doc_span, quote: q.quote })),
          ),
        },
};

export function projectLayer(layer: Layer, view: RunView): unknown {
  return PROJECTIONS[layer](view);
}
