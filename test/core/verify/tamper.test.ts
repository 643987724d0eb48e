/**
 * The tamper matrix (issue 3): every single-byte change to any file of a real run outside
 * volatile/ must fail verification and name a check that explains it; so must coordinated
 * forgeries that keep every recorded hash consistent, and deleted or added files.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../../src/app/run-job.js";
import type { VerificationReport } from "../../../src/core/models/report.js";
import type { ToolDispatcher } from "../../../src/core/pipeline/executor.js";
import { extractiveReasoner } from "../../../src/core/reason/extractive.js";
import { jsonFile } from "../../../src/core/run/files.js";
import { liveTools, produceRun } from "../../../src/core/run/produce.js";
import { signRootDigest } from "../../../src/core/run/sign.js";
import { verifyRun } from "../../../src/core/verify/verifier.js";
import { writeKeyPair } from "../../../src/io/keys.js";
import { prepareRetrieval } from "../../../src/io/retrieval-backend.js";
import { readRunDirectory } from "../../../src/io/run-reader.js";
import { DiskStore } from "../../../src/io/store.js";
import { PRODUCER } from "../../../src/version.js";
import { DEMO_CORPUS } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";
const spec = { version: "1" as const, description: QUESTION, constraints: { corpus: DEMO_CORPUS } };

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

const verify = (f: ReadonlyMap<string, Uint8Array>, policy: "strict" | "audit" | "permissive" = "audit") =>
  verifyRun({ files: f, store, policy, stage: "sealed", publicKeyPem });
const failedChecks = (r: VerificationReport) => r.checks.filter((c) => !c.passed).map((c) => c.name);

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
    for (const policy of ["strict", "audit", "permissive"] as const) {
      const report = verify(files, policy);
      expect(failedChecks(report), policy).toEqual([]);
      expect(report.verdict).toBe("pass");
    }
  });
});

/** Every byte of files up to this size is changed; larger files get a seeded sample. */
const EVERY_BYTE_UP_TO = 512;
const SAMPLE = 120;

describe("single-byte changes", () => {
  const groups = [
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

  it("cover every file of the run", () => {
    for (const path of files.keys())
      expect(
        groups.some((g) => path === g || (g.endsWith("/") && path.startsWith(g))),
        path,
      ).toBe(true);
  });

  it.each(groups)("are detected in %s, each naming a failed check", (group) => {
    const random = seeded(group.length * 7919);
    let trials = 0;
    for (const [path, bytes] of files) {
      if (!(path === group || (group.endsWith("/") && path.startsWith(group)))) continue;
      const positions =
        bytes.length <= EVERY_BYTE_UP_TO
          ? Array.from(bytes.keys())
          : Array.from({ length: SAMPLE }, () => Math.floor(random() * bytes.length));
      for (const at of positions) {
        const changed = Uint8Array.from(bytes);
        changed[at] = (changed[at] as number) ^ (1 << Math.floor(random() * 8));
        const report = verify(new Map(files).set(path, changed));
        trials++;
        if (report.verdict === "pass" || failedChecks(report).length === 0)
          throw new Error(`undetected change in ${path} at byte ${at}`);
      }
    }
    expect(trials).toBeGreaterThan(0);
  });
});

describe("coordinated forgeries that keep every recorded hash consistent", () => {
  /** A run produced end to end, with every id, hash and the manifest recomputed, around a lie. */
  async function forge(options: {
    tool?: (d: ToolDispatcher) => ToolDispatcher;
    statement?: (s: string) => string;
  }) {
    const prepared = await prepareRetrieval(store, DEMO_CORPUS, {
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
    return produceRun(
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
    ).files;
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
    const report = verifyRun({
      files: await forge({ tool: lyingTool }),
      store,
      policy: "audit",
      stage: "sealed",
    });
    expect(report.verdict).toBe("fail");
    // The index's chunk id no longer matches the bytes either; the corpus itself is the final word.
    expect(failedChecks(report)).toEqual(expect.arrayContaining(["evidence_origin"]));
  });

  it("a claim statement changed with its id recomputed is caught as ungrounded", async () => {
    const report = verifyRun({
      files: await forge({ statement: (s) => s.replace("highest", "lowest") }),
      store,
      policy: "audit",
      stage: "sealed",
    });
    expect(report.verdict).toBe("fail");
    expect(failedChecks(report)).toEqual(["grounding"]);
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
    expect(failedChecks(report)).toContain("manifest");
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
    const unsigned = new Map(files);
    unsigned.delete("signature.json");
    expect(failedChecks(verify(unsigned))).toEqual(["signature"]);
  });

  it("without a key: a warning that fails only in strict mode", () => {
    const noKey = (policy: "strict" | "audit" | "permissive") =>
      verifyRun({ files, store, policy, stage: "sealed" });
    expect(noKey("audit").verdict).toBe("pass");
    expect(noKey("audit").summary.warnings).toBe(1);
    expect(noKey("strict").verdict).toBe("fail");
    expect(noKey("permissive").failures).toEqual([]);
  });
});
