/**
 * The tamper matrix (issue 3): every single-byte change to any file of a real run outside
 * volatile/ must fail verification and name a check that explains it; so must coordinated
 * forgeries that recompute every id and hash around a lie, and deleted or added files.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../../src/app/run/run-job.js";
import { jsonFile } from "../../../src/core/artifact/files.js";
import { signRootDigest } from "../../../src/core/artifact/signature.js";
import { parseCorpusRef } from "../../../src/core/corpus/corpus-ref.js";
import type { RetrievePayload } from "../../../src/core/models/trace.js";
import type { Policy, VerificationReport } from "../../../src/core/models/verification-report.js";
import type { ToolDispatcher } from "../../../src/core/pipeline/executor.js";
import { liveTools, produceRun } from "../../../src/core/pipeline/produce.js";
import { extractiveReasoner } from "../../../src/core/reason/extractive.js";
import { verifyRun } from "../../../src/core/verify/verifier.js";
import { prepareRetrieval } from "../../../src/io/index-cache/index-cache.js";
import { writeKeyPair } from "../../../src/io/runs/keys.js";
import { readRunDirectory } from "../../../src/io/runs/run-reader.js";
import { DiskStore } from "../../../src/io/store/content-store.js";
import { PRODUCER } from "../../../src/version.js";
import { DEMO_CORPUS } from "../../helpers/cli.js";
import { forgeRun, renumber } from "../../helpers/forge.js";
import { tempDir } from "../../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";
const spec = { version: "1" as const, description: QUESTION, constraints: { corpus: DEMO_CORPUS } };
const POLICIES: Policy[] = ["strict", "audit", "permissive"];

/** A tiny seeded PRNG (mulberry32): the sampled positions are the same on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let artifacts: string;
let store: DiskStore;
let files: Map<string, Uint8Array>;
let publicKeyPem: string;

const verify = (f: ReadonlyMap<string, Uint8Array>, policy: Policy = "audit") =>
  verifyRun({ files: f, store, policy, stage: "sealed", publicKeyPem });
const failedChecks = (r: VerificationReport) => r.checks.filter((c) => !c.passed).map((c) => c.name);
const codes = (r: VerificationReport) => r.failures.map((f) => f.code);

async function runFiles(question: string, constraints: Record<string, unknown>) {
  const result = await runJob({
    spec: { version: "1", description: question, constraints },
    preset: "default",
    seed: 0,
    artifactsRoot: artifacts,
  });
  return { result, files: readRunDirectory(result.runDir).files };
}

beforeAll(async () => {
  artifacts = tempDir();
  const keys = writeKeyPair(join(artifacts, "keys"));
  publicKeyPem = readFileSync(keys.publicKey, "utf8");
  const privateKeyPem = readFileSync(keys.privateKey, "utf8");
  const result = await runJob({
    spec,
    preset: "default",
    seed: 0,
    artifactsRoot: artifacts,
    seal: (run) => {
      const manifest = JSON.parse(Buffer.from(run.files.get("manifest.json") as Uint8Array).toString());
      run.files.set("signature.json", jsonFile(signRootDigest(privateKeyPem, manifest.root_digest)));
    },
  });
  store = new DiskStore(artifacts);
  files = readRunDirectory(result.runDir).files;
});

describe("an untouched run", () => {
  it("verifies in every policy mode", () => {
    for (const policy of POLICIES) {
      const report = verify(files, policy);
      expect(failedChecks(report), policy).toEqual([]);
      expect(report.verdict).toBe("pass");
    }
  });

  it("verifies when it ends in insufficient evidence, and when it needs no retrieval", async () => {
    const insufficient = await runFiles("Who is the one that was there?", { corpus: DEMO_CORPUS });
    expect(insufficient.result.answer.status).toBe("insufficient_evidence");
    const noRetrieval = await runFiles("What is the way of tea?", { needs_retrieval: false });
    for (const run of [insufficient, noRetrieval]) {
      for (const policy of POLICIES) {
        const report = verifyRun({ files: run.files, store, policy, stage: "sealed" });
        expect(failedChecks(report), policy).toEqual([]);
      }
      // The report the writer sealed into the run is the full report, and says so honestly.
      const sealed = JSON.parse(Buffer.from(run.files.get("report.json") as Uint8Array).toString());
      expect(sealed.verdict).toBe("pass");
      expect(sealed.checks).toHaveLength(17);
    }
  });

  it("was sealed with a report whose manifest and signature details say what was not checked yet", () => {
    const sealed = JSON.parse(Buffer.from(files.get("report.json") as Uint8Array).toString());
    const details = (name: string) => sealed.checks.find((c: { name: string }) => c.name === name).details;
    expect(details("manifest")).toMatch(/hashes are sealed in manifest.json after this report/);
    expect(details("signature")).toMatch(/not checked: a run is signed after this report/);
  });
});

/** Every byte of files below this size is changed; larger files get a seeded sample. */
const EVERY_BYTE_BELOW = 512;
const SAMPLE = 200;
const GROUPS = [
  "spec.json",
  "plan.json",
  "trace.jsonl",
  "run.json",
  "answer.json",
  "report.json",
  "manifest.json",
  "signature.json",
  "provenance/retrieval.json",
  "provenance/chunks.json",
  "evidence/",
];
const inGroup = (path: string, group: string) =>
  path === group || (group.endsWith("/") && path.startsWith(group));

describe("single-byte changes", () => {
  it("cover every file of the run", () => {
    for (const path of files.keys())
      expect(
        GROUPS.some((g) => inGroup(path, g)),
        path,
      ).toBe(true);
  });

  it.each(GROUPS)("are detected in %s, each naming a failed check", async (group) => {
    const random = seeded(group.length * 7919);
    let trials = 0;
    for (const [path, bytes] of files) {
      if (!inGroup(path, group)) continue;
      const positions =
        bytes.length < EVERY_BYTE_BELOW
          ? Array.from(bytes.keys())
          : Array.from({ length: SAMPLE }, () => Math.floor(random() * bytes.length));
      for (const at of positions) {
        const changed = Uint8Array.from(bytes);
        changed[at] = (changed[at] as number) ^ (1 << Math.floor(random() * 8));
        const report = verify(new Map(files).set(path, changed));
        // Hand the event loop back now and then: a long synchronous loop starves vitest's worker RPC.
        if (++trials % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
        if (report.verdict === "pass" || failedChecks(report).length === 0 || report.failures.length === 0)
          throw new Error(`undetected change in ${path} at byte ${at}`);
      }
    }
    expect(trials).toBeGreaterThan(0);
  });
});

describe("coordinated forgeries that recompute every id and hash", () => {
  const forge = (options: Omit<Parameters<typeof forgeRun>[1], "store">) =>
    verifyRun({ files: forgeRun(files, { store, ...options }), store, policy: "audit", stage: "sealed" });

  it("re-sealing without an edit gives a run that verifies (the forger's tools are sound)", () => {
    const report = forge({});
    expect(failedChecks(report)).toEqual([]);
  });

  /** A run produced end to end around a lying tool or reasoner, with every id and hash recomputed. */
  async function produceAround(options: {
    tool?: (d: ToolDispatcher) => ToolDispatcher;
    statement?: (s: string) => string;
  }) {
    const prepared = await prepareRetrieval(store, parseCorpusRef(DEMO_CORPUS), {
      analyzer: "english",
      bm25_k1: 1.2,
      bm25_b: 0.75,
      chunk_chars: 800,
      overlap_chars: 200,
      index_titles: true,
    });
    const live = liveTools(prepared.backend);
    const reasoner = {
      ...extractiveReasoner,
      derive: (input: Parameters<typeof extractiveReasoner.derive>[0]) => {
        const d = extractiveReasoner.derive(input);
        return d.kind === "claim" && options.statement
          ? { ...d, statement: options.statement(d.statement) }
          : d;
      },
    };
    const produced = produceRun(
      { ...spec, constraints: { corpus: `sha256:${prepared.snapshotHash}` } },
      {
        preset: "default",
        seed: 0,
        producer: PRODUCER,
        reasoner,
        provenance: prepared.backend.provenance,
        dispatcher: options.tool ? options.tool(live) : live,
        verify: (f) => verifyRun({ files: f, store, policy: "audit", stage: "sealing" }),
      },
    );
    return verifyRun({ files: produced.files, store, policy: "audit", stage: "sealed" });
  }

  it("evidence text changed and re-hashed everywhere is caught against the corpus snapshot", async () => {
    const lyingTool = (live: ToolDispatcher): ToolDispatcher => ({
      dispatch(call) {
        const result = live.dispatch(call);
        const payload = result.payload as { hits: Array<{ text: string }> };
        for (const hit of payload.hits) hit.text = hit.text.replace("highest card", "lowest card");
        return result;
      },
    });
    const report = await produceAround({ tool: lyingTool });
    expect(report.verdict).toBe("fail");
    expect(failedChecks(report)).toEqual(expect.arrayContaining(["evidence_origin", "retrieval_recompute"]));
    expect(codes(report)).toContain("EVIDENCE_NOT_IN_CORPUS");
  });

  it("a claim statement changed with its id recomputed is caught as ungrounded", async () => {
    const report = await produceAround({ statement: (s) => s.replace("highest", "lowest") });
    expect(failedChecks(report)).toEqual(["grounding", "rederive"]);
    expect(codes(report)).toContain("STATEMENT_NOT_QUOTED");
  });

  it("a validated claim reworded after the verify step is caught: a verdict changes only the status", () => {
    const report = forge({
      trace: (trace) => {
        for (const e of trace.events) {
          if (e.type === "claim_emitted" && e.claim.status === "validated")
            e.claim.statement = "Trumps never win.";
          if (e.type === "step_finished" && e.output.type === "finalize")
            e.output.answer = "Trumps never win.";
        }
      },
    });
    expect(failedChecks(report)).toEqual(["grounding"]);
    expect(codes(report)).toEqual(["VERDICT_CLAIM"]);
  });

  it("a validated answer withheld as insufficient evidence is caught", () => {
    const report = forge({
      trace: (trace) => {
        for (const e of trace.events)
          if (e.type === "step_finished" && e.output.type === "finalize")
            e.output = {
              ...e.output,
              status: "insufficient_evidence",
              answer: null,
              claim_ids: [],
              uncertainty: "Insufficient evidence: no claim could be validated.",
            };
      },
    });
    expect(failedChecks(report)).toEqual(["outcome"]);
    expect(codes(report)).toEqual(["FINAL_CLAIMS"]);
  });

  it("a retrieve call with other arguments than the plan's is caught", () => {
    const report = forge({
      trace: (trace) => {
        for (const e of trace.events) if (e.type === "tool_called") e.call.args.top_k = 3;
      },
    });
    expect(failedChecks(report)).toEqual(expect.arrayContaining(["tool_linkage", "retrieval_recompute"]));
    expect(codes(report)).toEqual(expect.arrayContaining(["CALL_NOT_PLANNED", "RETRIEVAL_RECOMPUTED"]));
  });

  const editPayload = (edit: (payload: RetrievePayload) => void) =>
    forge({
      trace: (trace) => {
        for (const e of trace.events)
          if (e.type === "tool_returned") edit(e.result.payload as unknown as RetrievePayload);
      },
    });

  it("a forged score or ranking is caught by recomputing the retrieval from the pinned index", () => {
    for (const report of [
      editPayload((p) => {
        (p.hits[0] as { score: number }).score += 1;
      }),
      editPayload((p) => {
        p.hits.reverse();
        p.hits.forEach((h, i) => {
          h.rank = i + 1;
        });
      }),
    ]) {
      // A reordered ranking also changes the ranks the reasoner saw, so rederive may fail too.
      expect(failedChecks(report)).toContain("retrieval_recompute");
      expect(codes(report)).toContain("RETRIEVAL_RECOMPUTED");
    }
  });

  it("an evidence uri naming another snapshot is caught", () => {
    const report = forge({
      trace: (trace) => {
        for (const e of trace.events)
          if (e.type === "evidence_registered")
            e.evidence.uri = e.evidence.uri.replace(/sha256:[0-9a-f]{4}/, "sha256:0000");
      },
    });
    expect(failedChecks(report)).toEqual(["evidence_origin"]);
    expect(new Set(codes(report))).toEqual(new Set(["EVIDENCE_URI"]));
  });

  it("a step finishing as another kind is caught", () => {
    const report = forge({
      trace: (trace) => {
        for (const e of trace.events)
          if (e.type === "step_finished" && e.kind === "verify") e.kind = "gather";
      },
    });
    expect(failedChecks(report)).toEqual(["trace_order"]);
    expect(codes(report)).toEqual(["STEP_KIND"]);
  });

  it("a retrieved chunk silently dropped from the evidence is caught", () => {
    let dropped = "";
    const report = forge({
      trace: (trace) => {
        const cited = new Set(
          trace.events.flatMap((e) => (e.type === "claim_emitted" ? e.claim.supports.map((s) => s.ref) : [])),
        );
        const at = trace.events.findIndex(
          (e) => e.type === "evidence_registered" && !cited.has(e.evidence.id),
        );
        const event = trace.events[at];
        if (event?.type !== "evidence_registered") throw new Error("no uncited evidence to drop");
        dropped = event.evidence.content_path;
        trace.events.splice(at, 1);
        renumber(trace);
        for (const e of trace.events)
          if (e.type === "step_finished" && e.output.type === "gather")
            e.output.evidence_ids = e.output.evidence_ids.filter((id) => id !== event.evidence.id);
      },
      files: (f) => f.delete(dropped),
    });
    // The reasoner saw one piece of evidence fewer, so its recorded outcome may no longer re-derive.
    expect(failedChecks(report)).toContain("evidence_files");
    expect(codes(report)).toContain("HIT_NOT_REGISTERED");
  });

  it("a file the run layout does not know, listed in a recomputed manifest, is caught", () => {
    for (const path of ["notes.txt", "provenance/extra.json", "evidence/readme.txt"]) {
      const report = forge({ files: (f) => f.set(path, Buffer.from("{}\n")) });
      expect(failedChecks(report), path).toContain("manifest");
      expect(codes(report), path).toContain("UNKNOWN_FILE");
    }
  });
});

describe("files deleted or added", () => {
  it("detects every deleted file", () => {
    for (const path of files.keys()) {
      const fewer = new Map(files);
      fewer.delete(path);
      expect(verify(fewer).verdict, path).toBe("fail");
    }
  });

  it("detects an added file, anywhere outside volatile/", () => {
    for (const path of ["extra.txt", "evidence/extra.txt", "provenance/more.json"]) {
      expect(failedChecks(verify(new Map(files).set(path, Buffer.from("x")))), path).toContain("manifest");
    }
    expect(verify(new Map(files).set("volatile/timings.json", Buffer.from("{}"))).verdict).toBe("pass");
  });

  it("fails on symlinks and oversized entries reported by the reader, without reading them", () => {
    const report = verifyRun({
      files,
      store,
      policy: "audit",
      stage: "sealed",
      publicKeyPem,
      anomalies: [{ path: "evidence/x.txt", reason: "symbolic link (never followed)" }],
    });
    expect(failedChecks(report)).toEqual(["manifest"]);
    expect(codes(report)).toEqual(["UNEXPECTED_ENTRY"]);
  });
});

describe("signatures", () => {
  it("fail with a wrong key, and fail when a key is given but the run is unsigned", () => {
    const other = writeKeyPair(join(tempDir(), "other"));
    const wrong = verifyRun({
      files,
      store,
      policy: "audit",
      stage: "sealed",
      publicKeyPem: readFileSync(other.publicKey, "utf8"),
    });
    expect(failedChecks(wrong)).toEqual(["signature"]);
    expect(codes(wrong)).toEqual(["SIGNATURE_OTHER_KEY", "SIGNATURE_INVALID"]);
    const unsigned = new Map(files);
    unsigned.delete("signature.json");
    expect(failedChecks(verify(unsigned))).toEqual(["signature"]);
    expect(codes(verify(unsigned))).toEqual(["SIGNATURE_MISSING"]);
  });

  it("without a key: the signature is verified against the key it carries, in every policy", () => {
    const noKey = (f: ReadonlyMap<string, Uint8Array>, policy: Policy) =>
      verifyRun({ files: f, store, policy, stage: "sealed" });
    for (const policy of POLICIES) {
      const report = noKey(files, policy);
      expect(report.verdict, policy).toBe("pass");
      expect(report.failures, policy).toEqual([]);
      expect(report.checks.find((c) => c.name === "signature")?.details).toMatch(/key it carries/);
    }
    const signature = JSON.parse(Buffer.from(files.get("signature.json") as Uint8Array).toString());
    // A forged signature value fails even without --pubkey (it used to pass with a warning).
    const forged = { ...signature, signature: Buffer.alloc(64, 7).toString("base64") };
    expect(codes(noKey(new Map(files).set("signature.json", jsonFile(forged)), "audit"))).toContain(
      "SIGNATURE_INVALID",
    );
    // A signature made before keys were carried is checked for its digest only: a warning.
    const { public_key: _key, ...legacy } = signature;
    const old = noKey(new Map(files).set("signature.json", jsonFile(legacy)), "audit");
    expect(old.verdict).toBe("pass");
    expect(codes(old)).toEqual(["SIGNATURE_UNVERIFIED"]);
    expect(noKey(new Map(files).set("signature.json", jsonFile(legacy)), "strict").verdict).toBe("fail");
  });

  it("--require-signature fails an unsigned run in every policy", () => {
    const unsigned = new Map(files);
    unsigned.delete("signature.json");
    for (const policy of POLICIES) {
      const report = verifyRun({ files: unsigned, store, policy, stage: "sealed", requireSignature: true });
      expect(codes(report), policy).toEqual(["SIGNATURE_MISSING"]);
      expect(verifyRun({ files: unsigned, store, policy, stage: "sealed" }).verdict, policy).toBe("pass");
    }
  });
});
