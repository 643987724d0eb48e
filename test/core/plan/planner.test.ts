import { describe, expect, it } from "vitest";
import { contentId } from "../../../src/core/canonical.js";
import { InputError } from "../../../src/core/errors.js";
import type { ProblemSpec } from "../../../src/core/models/spec.js";
import { specWithId } from "../../../src/core/pipeline/produce.js";
import { planFor, resolveParams } from "../../../src/core/plan/planner.js";
import { topoOrder } from "../../../src/core/plan/topo.js";

const spec = (constraints: ProblemSpec["constraints"] = { corpus: `sha256:${"a".repeat(64)}` }) =>
  specWithId({ version: "1", description: "Why is the sky blue?", constraints });

describe("planFor", () => {
  it("emits the five node kinds as a chain with recomputable ids", () => {
    const plan = planFor(spec(), "default");
    expect(plan.nodes.map((n) => n.kind)).toEqual(["understand", "gather", "derive", "verify", "finalize"]);
    plan.nodes.forEach((node, i) => {
      expect(contentId("node", node)).toBe(node.id);
      expect(node.deps).toEqual(i === 0 ? [] : [plan.nodes[i - 1]?.id]);
    });
    expect(contentId("plan", plan)).toBe(plan.id);
    expect(topoOrder(plan.nodes).map((n) => n.kind)).toEqual(plan.nodes.map((n) => n.kind));
  });

  it("presets change parameters, not structure", () => {
    const quick = planFor(spec(), "quick");
    const thorough = planFor(spec(), "thorough");
    expect(quick.nodes.map((n) => n.kind)).toEqual(thorough.nodes.map((n) => n.kind));
    expect(quick.nodes[1]?.params.top_k).toBe(3);
    expect(thorough.nodes[2]?.params.min_supports_per_claim).toBe(2);
  });

  it("lets spec constraints override preset defaults", () => {
    const p = resolveParams(spec({ corpus: "x", top_k: 9, bm25_k1: 0.9, analyzer: "simple" }), "quick");
    expect(p).toMatchObject({ top_k: 9, bm25_k1: 0.9, analyzer: "simple", max_citations: 1 });
  });

  it("plans no retrieval when the spec needs none", () => {
    const plan = planFor(
      specWithId({ version: "1", description: "q", constraints: { needs_retrieval: false } }),
      "default",
    );
    expect(plan.nodes[1]?.tool_requests).toEqual([]);
  });

  it.each([
    [{ corpus: "x", chunk_chars: 100, overlap_chars: 100 }, "constraints.overlap_chars"],
    [{ corpus: "x", min_supports_per_claim: 3, max_citations: 2 }, "constraints.max_citations"],
    [{ needs_retrieval: true }, "constraints.corpus"],
  ] as const)("rejects inconsistent constraints %j naming the field", (constraints, field) => {
    try {
      resolveParams(spec(constraints), "default");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).where.field).toBe(field);
    }
  });
});

describe("topoOrder", () => {
  it("rejects cycles and missing dependencies", () => {
    const plan = planFor(spec(), "default");
    const [a, b] = plan.nodes;
    if (a === undefined || b === undefined) throw new Error("plan too short");
    expect(() => topoOrder([{ ...a, deps: [b.id] }, b])).toThrow(/cycle/);
    expect(() => topoOrder([b])).toThrow(/missing node/);
  });
});
