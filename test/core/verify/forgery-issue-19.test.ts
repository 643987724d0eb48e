/**
 * The forgeries of issue 19, by name: each edits a real run over the demo corpus, re-seals it the
 * way the producer seals (test/helpers/forge.ts resealRun: every id, the trace, answer,
 * provenance, evidence files, sealing report and manifest recomputed), and `verify` must fail.
 * The class is covered by the forgery generator (inventory.test.ts); these are its examples.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../../src/app/run/run-job.js";
import { jsonFile, RUN_FILES, type RunFiles } from "../../../src/core/artifact/files.js";
import { canonicalJson } from "../../../src/core/canonical.js";
import { readSnapshot } from "../../../src/core/corpus/document.js";
import type { RetrievalProvenance } from "../../../src/core/models/trace.js";
import type { Policy, VerificationReport } from "../../../src/core/models/verification-report.js";
import { planFor } from "../../../src/core/plan/planner.js";
import { buildIndex } from "../../../src/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../../../src/core/retrieval/bm25/bm25-format.js";
import { indexParamsFromProvenance, toBm25Params } from "../../../src/core/retrieval/index-params.js";
import { verifyRun } from "../../../src/core/verify/verifier.js";
import { readRunDirectory } from "../../../src/io/runs/run-reader.js";
import { DiskStore } from "../../../src/io/store/content-store.js";
import { DEMO_CORPUS } from "../../helpers/cli.js";
import { resealRun } from "../../helpers/forge.js";
import { tempDir, writeFiles } from "../../helpers/tmp.js";

/** Run files parsed for editing: any shape, as a forger sees them. */
// biome-ignore lint/suspicious/noExplicitAny: a forger's edits reach into arbitrary JSON.
type Json = Record<string, any>;

const BRIDGE = "How is a trick won in contract bridge?";
const WORLD_CUP = "Who won the 2018 FIFA World Cup final?";

let artifacts: string;
let store: DiskStore;
let bridge: RunFiles;
let worldCup: RunFiles;

async function produced(question: string, root: string, corpus = DEMO_CORPUS): Promise<RunFiles> {
  const result = await runJob({
    spec: { version: "1", description: question, constraints: { corpus } },
    preset: "default",
    seed: 0,
    artifactsRoot: root,
  });
  return readRunDirectory(result.runDir).files;
}

beforeAll(async () => {
  artifacts = tempDir();
  store = new DiskStore(artifacts);
  bridge = await produced(BRIDGE, artifacts);
  worldCup = await produced(WORLD_CUP, artifacts);
}, 120_000);

const verify = (files: ReadonlyMap<string, Uint8Array>, policy: Policy = "audit", s = store) =>
  verifyRun({ files, store: s, policy, stage: "sealed" });
const failed = (r: VerificationReport) => r.checks.filter((c) => !c.passed).map((c) => c.name);
const codes = (r: VerificationReport) => r.failures.map((f) => f.code);
const text = (files: RunFiles, path: string) => Buffer.from(files.get(path) as Uint8Array).toString("utf8");
const json = (files: RunFiles, path: string) => JSON.parse(text(files, path));

/** Edits one JSON file and re-seals the whole run. */
function forged(files: RunFiles, path: string, edit: (value: Json) => void, s = store): RunFiles {
  const out = new Map(files);
  const value = json(files, path);
  edit(value);
  out.set(path, jsonFile(value));
  return resealRun(out, { store: s });
}

/** Replaces a string in every JSON file (and the trace), then re-seals. */
function replaced(files: RunFiles, from: string, to: string, s = store): RunFiles {
  const out = new Map(files);
  for (const [path, bytes] of files)
    if (/\.jsonl?$/.test(path))
      out.set(path, Buffer.from(Buffer.from(bytes).toString("utf8").split(from).join(to)));
  return resealRun(out, { store: s });
}

/** Edits the trace's lines (parsed) and re-seals. */
function traceEdited(files: RunFiles, edit: (events: Array<Json>) => void): RunFiles {
  const out = new Map(files);
  const lines = text(files, RUN_FILES.trace)
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  edit(lines);
  out.set(RUN_FILES.trace, Buffer.from(`${lines.map((l) => canonicalJson(l)).join("\n")}\n`, "utf8"));
  return resealRun(out, { store });
}

const node = (plan: Json, kind: string) => plan.nodes.find((n: { kind: string }) => n.kind === kind);

describe("issue 19: re-sealed forgeries fail verify", () => {
  it("the honest runs, and honest re-seals of them, pass (the forger's tools are sound)", () => {
    for (const files of [bridge, worldCup]) {
      expect(failed(verify(files))).toEqual([]);
      expect(failed(verify(resealRun(files, { store })))).toEqual([]);
    }
    expect(json(worldCup, RUN_FILES.answer).status).toBe("insufficient_evidence");
  });

  it("item 3: the plan's min_confidence set to 0 (the World Cup question 'answered' with a sentence about tea)", () => {
    const report = verify(
      forged(worldCup, RUN_FILES.plan, (plan) => {
        node(plan, "derive").params.min_confidence = 0;
      }),
      "strict",
    );
    expect(codes(report)).toContain("PLAN_RECOMPUTED");
  });

  it("item 3: the plan's query swapped (answered with the contract-bridge sentence)", () => {
    const report = verify(
      forged(worldCup, RUN_FILES.plan, (plan) => {
        node(plan, "understand").params.query = BRIDGE;
        node(plan, "gather").tool_requests[0].args.query = BRIDGE;
      }),
    );
    expect(codes(report)).toContain("PLAN_RECOMPUTED");
  });

  it.each([
    ["gather", "top_k", 9],
    ["gather", "bm25_k1", 1.5],
    ["derive", "max_citations", 1],
  ])("item 3: the plan's %s %s changed", (kind, key, value) => {
    const report = verify(
      forged(bridge, RUN_FILES.plan, (plan) => {
        node(plan, kind).params[key] = value;
      }),
    );
    expect(codes(report)).toContain("PLAN_RECOMPUTED");
  });

  it('item 3: thorough-preset parameters under the label "default"', () => {
    const report = verify(
      forged(bridge, RUN_FILES.plan, (plan) => {
        node(plan, "gather").params.top_k = 10;
        node(plan, "derive").params.min_supports_per_claim = 2;
        node(plan, "derive").params.max_citations = 3;
        node(plan, "verify").params.min_supports_per_claim = 2;
      }),
    );
    expect(codes(report)).toContain("PLAN_RECOMPUTED");
  });

  it("item 3: a spec saying min_confidence 0.99 over a run answered at 0.869 fails, plan re-made or not", () => {
    expect(json(bridge, RUN_FILES.answer).claims[0].confidence).toBeLessThan(0.99);
    const specOnly = forged(bridge, RUN_FILES.spec, (spec) => {
      spec.constraints.min_confidence = 0.99;
    });
    expect(codes(verify(specOnly))).toContain("PLAN_RECOMPUTED");
    // The forger also re-plans: the recorded answer is then not what the reasoner derives.
    const spec = json(specOnly, RUN_FILES.spec);
    const out = new Map(specOnly);
    out.set(RUN_FILES.plan, jsonFile(planFor(spec, "default")));
    const replanned = verify(resealRun(out, { store }));
    expect(failed(replanned)).toContain("rederive");
  });

  it("item 4: an index built from the same snapshot with the bridge document's question words blanked", () => {
    const p: RetrievalProvenance = json(bridge, RUN_FILES.run).inputs.runtime.tools[0].config;
    const snapshot = store.get(p.corpus_snapshot) as Uint8Array;
    const docs = [...readSnapshot(snapshot)].map((d) => ({
      docId: d.doc_id,
      text: d.doc_id.includes("contract-bridge")
        ? d.text.replace(/\b(trick|won|win)\b/gi, (w) => " ".repeat(w.length))
        : d.text,
      ...(d.title === undefined ? {} : { title: d.title }),
    }));
    const index = buildIndex(docs, toBm25Params(indexParamsFromProvenance(p)));
    const hash = store.put(serializeIndex(index));
    const forgedRun = replaced(bridge, p.index_hash, hash);
    for (const policy of ["audit", "strict"] as const) {
      const report = verify(forgedRun, policy);
      expect(report.verdict).toBe("fail");
      expect(codes(report)).toContain("INDEX_NOT_REBUILDABLE");
    }
  });

  it("recorded retrieval inputs: term_stats deleted from the retrieve tool 2 payload", () => {
    const report = verify(
      traceEdited(bridge, (events) => {
        for (const e of events) if (e.type === "tool_returned") delete e.result.payload.term_stats;
      }),
    );
    expect(failed(report)).toContain("retrieval_recompute");
    expect(report.failures.map((f) => f.message).join("\n")).toMatch(/term_stats are missing/);
  });

  it.each([
    [
      "retrieve tool 1 with extractive reasoner 2",
      { tool: "1", reasoner: { id: "extractive", version: "2" } },
    ],
    [
      "retrieve tool 2 with extractive reasoner 1",
      { tool: "2", reasoner: { id: "extractive", version: "1" } },
    ],
    ["an unknown reasoner name", { tool: "2", reasoner: { id: "oracle", version: "1" } }],
  ])("item 5: %s fails under every policy", (_, combo) => {
    let files = bridge;
    if (combo.tool === "1") {
      // The tool 1 payload: no evidence mode in the provenance, the label set back to 1.
      files = traceEdited(files, (events) => {
        for (const e of events) if (e.type === "tool_returned") delete e.result.payload.provenance.evidence;
      });
      files = forged(files, RUN_FILES.run, (run) => {
        const tool = run.inputs.runtime.tools[0];
        delete tool.config.evidence;
        tool.version = "1";
      });
    }
    files = forged(files, RUN_FILES.run, (run) => {
      run.inputs.runtime.reasoner = combo.reasoner;
    });
    for (const policy of ["strict", "audit", "permissive"] as const) {
      const report = verify(files, policy);
      expect(report.verdict, policy).toBe("fail");
      expect(codes(report), policy).toContain("VERSION_COMBINATION");
    }
  });

  it("the tool-version label set to another version", () => {
    const report = verify(
      forged(bridge, RUN_FILES.run, (run) => {
        run.inputs.runtime.tools[0].version = "1";
      }),
    );
    expect(codes(report)).toContain("TOOL_VERSION");
  });

  it("corpus limits the pinned corpus exceeds", () => {
    const limits = { max_bytes: 1000, max_documents: 3, max_chunks: 5 };
    const files = traceEdited(bridge, (events) => {
      for (const e of events) if (e.type === "tool_returned") e.result.payload.provenance.limits = limits;
    });
    const report = verify(
      forged(files, RUN_FILES.run, (run) => {
        run.inputs.runtime.tools[0].config.limits = limits;
      }),
    );
    expect(codes(report).filter((c) => c === "CORPUS_LIMIT")).toHaveLength(3);
  });

  it("report.json cut down to one check", () => {
    const out = new Map(bridge);
    const report = json(bridge, RUN_FILES.report);
    report.checks = report.checks.slice(0, 1);
    report.summary = { ...report.summary, checks: 1, passed: 1 };
    out.set(RUN_FILES.report, jsonFile(report));
    const verdict = verify(out);
    expect(failed(verdict)).toContain("report_recompute");
    expect(codes(verdict)).toContain("REPORT_CHECK_MISSING");
  });
});

describe("issue 19 item 4: a forged index over a SciFact-sized corpus fails the default policy", () => {
  it("5,000 documents, about 7 MiB: rebuilt under the default policy, and the forgery named", async () => {
    // A synthetic corpus of SciFact's size (5,183 abstracts, 7.6 MiB), from a fixed seed.
    let seed = 19;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const words = Array.from({ length: 4000 }, (_, i) => `w${i.toString(36)}x${(i * 7919).toString(36)}`);
    const lines: string[] = [];
    for (let d = 0; d < 5000; d++) {
      const body = Array.from({ length: 200 }, () => words[Math.floor(random() * words.length)]).join(" ");
      lines.push(
        JSON.stringify({ doc_id: `doc-${d}`, text: `Abstract ${d}. ${body}. Contract bridge tricks.` }),
      );
    }
    const corpusDir = tempDir();
    writeFiles(corpusDir, { "corpus.jsonl": `${lines.join("\n")}\n` });
    const root = tempDir();
    const big = new DiskStore(root);
    const files = await produced(BRIDGE, root, `${corpusDir}/corpus.jsonl`);
    const p: RetrievalProvenance = json(files, RUN_FILES.run).inputs.runtime.tools[0].config;
    const snapshot = big.get(p.corpus_snapshot) as Uint8Array;
    expect(snapshot.byteLength).toBeGreaterThan(6 * 1024 * 1024);
    const docs = [...readSnapshot(snapshot)].map((d, i) => ({
      docId: d.doc_id,
      text: i === 0 ? d.text.replace(/Contract bridge tricks/, "Contract bridge       ") : d.text,
    }));
    const hash = big.put(serializeIndex(buildIndex(docs, toBm25Params(indexParamsFromProvenance(p)))));
    const report = verify(replaced(files, p.index_hash, hash, big), "audit", big);
    expect(report.verdict).toBe("fail");
    expect(codes(report)).toContain("INDEX_NOT_REBUILDABLE");
  }, 180_000);
});
