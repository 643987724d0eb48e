/**
 * Unit tests of manifest (INV-ART-001): the file set, the manifest's hashes and root digest, and
 * run.json's ids. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { RUN_FILES } from "../../../../src/core/artifact/files.js";
import type { RunView } from "../../../../src/core/artifact/view.js";
import type { CheckContext } from "../../../../src/core/verify/check.js";
import { manifestCheck } from "../../../../src/core/verify/checks/manifest.js";
import {
  answeredRun,
  bogusId,
  codes,
  edited,
  paramsOf,
  reread,
  sealed,
  sealing,
  traceIn,
  unsealed,
  ZEROS,
} from "./fixture.js";

const run = answeredRun();
const context = sealed(run);
const check = (view: RunView = run.view, ctx: CheckContext = context) => manifestCheck.run(view, ctx);
const withFile = (path: string, bytes: Uint8Array | null, view: RunView = run.view) => {
  const files = new Map(view.files);
  if (bytes === null) files.delete(path);
  else files.set(path, bytes);
  return { ...view, files };
};

describe("manifest", () => {
  it("passes the untouched run, sealed and while sealing", () => {
    expect(codes(check())).toEqual([]);
    expect(codes(check(reread(unsealed(run.files)), sealing(run.store)))).toEqual([]);
  });

  it("ignores volatile/", () => {
    expect(codes(check(withFile("volatile/timing.json", Buffer.from("{}"))))).toEqual([]);
  });

  it("UNEXPECTED_ENTRY: an entry the reader did not read", () => {
    const anomaly = { path: "evidence/link.txt", reason: "symbolic link" };
    const outcome = check({ ...run.view, anomalies: [anomaly] });
    expect(codes(outcome)).toEqual(["UNEXPECTED_ENTRY"]);
    expect(paramsOf(outcome, "UNEXPECTED_ENTRY")).toEqual(anomaly);
  });

  it("UNKNOWN_FILE: a file a run cannot hold (while sealing, before any manifest)", () => {
    const outcome = check(withFile("notes.txt", Buffer.from("hi")), sealing(run.store));
    expect(codes(outcome)).toEqual(["UNKNOWN_FILE"]);
    expect(paramsOf(outcome, "UNKNOWN_FILE")).toEqual({ path: "notes.txt" });
  });

  it("UNKNOWN_FILE and FILE_NOT_LISTED: an unknown file in a sealed run", () => {
    expect(codes(check(withFile("notes.txt", Buffer.from("hi"))))).toEqual([
      "UNKNOWN_FILE",
      "FILE_NOT_LISTED",
    ]);
  });

  it("RUN_SPEC: run.json names another spec", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.spec) v.spec.id = bogusId("spec");
      }),
    );
    expect(codes(outcome)).toEqual(["RUN_SPEC"]);
  });

  it("RUN_PLAN: run.json names another plan", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.plan) v.plan.id = bogusId("plan");
      }),
    );
    expect(codes(outcome)).toEqual(["RUN_PLAN"]);
  });

  it("RUN_PRESET: run.json and the plan disagree on the preset", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.plan) v.plan.preset = "quick";
      }),
    );
    expect(codes(outcome)).toEqual(["RUN_PRESET"]);
  });

  it("RUN_TRACE: the trace header names another run", () => {
    const outcome = check(
      edited(run.view, (v) => {
        traceIn(v).header.run_id = bogusId("run");
      }),
    );
    expect(codes(outcome)).toEqual(["RUN_TRACE"]);
  });

  it("RUN_PRODUCER: the trace header names another producer", () => {
    const outcome = check(
      edited(run.view, (v) => {
        traceIn(v).header.producer.version = "9.9.9";
      }),
    );
    expect(codes(outcome)).toEqual(["RUN_PRODUCER"]);
  });

  it("MANIFEST_MISSING: a sealed run without a readable manifest", () => {
    expect(codes(check({ ...run.view, manifest: null }))).toEqual(["MANIFEST_MISSING"]);
  });

  it("MANIFEST_RUN: the manifest names another run", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.manifest) v.manifest.run_id = bogusId("run");
      }),
    );
    expect(codes(outcome)).toEqual(["MANIFEST_RUN"]);
  });

  it("FILE_NOT_LISTED: a run file the manifest does not list", () => {
    const path = `evidence/${ZEROS}.txt`;
    const outcome = check(withFile(path, Buffer.from("x")));
    expect(codes(outcome)).toEqual(["FILE_NOT_LISTED"]);
    expect(paramsOf(outcome, "FILE_NOT_LISTED")).toEqual({ path });
  });

  it("LISTED_FILE_MISSING: a listed file is gone", () => {
    const outcome = check(withFile(RUN_FILES.answer, null));
    expect(codes(outcome)).toEqual(["LISTED_FILE_MISSING"]);
    expect(paramsOf(outcome, "LISTED_FILE_MISSING")).toEqual({ path: RUN_FILES.answer });
  });

  it("FILE_HASH: a listed file's bytes changed", () => {
    const outcome = check(withFile(RUN_FILES.answer, Buffer.from("{}\n")));
    expect(codes(outcome)).toEqual(["FILE_HASH"]);
    expect(paramsOf(outcome, "FILE_HASH")).toEqual({ path: RUN_FILES.answer });
  });

  it("ROOT_DIGEST: the root digest is not over the listed hashes", () => {
    const outcome = check(
      edited(run.view, (v) => {
        if (v.manifest) v.manifest.root_digest = ZEROS;
      }),
    );
    expect(codes(outcome)).toEqual(["ROOT_DIGEST"]);
  });
});
