/**
 * src/app/verify/verify.ts against temporary folders: a run directory verified through the one run
 * reader and a store on disk. An untouched run passes in place; a run whose directory name is
 * not its id, whose store lacks its snapshot, whose evidence was altered or that holds a symlink
 * or a FIFO fails with the finding that says so (never a crash or a hang); a run held in memory
 * verifies as it would once published; a folder that is not a run is E_NOT_A_RUN.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyOpenedRun, verifyRunDirectory, verifyRunFiles } from "../../src/app/verify/verify.js";
import type { VerificationReport } from "../../src/core/models/verification-report.js";
import { openRun } from "../../src/io/runs/run-reader.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { type JobRun, jobRun } from "../helpers/job-run.js";
import { tempDir } from "../helpers/tmp.js";

let run: JobRun;

beforeAll(async () => {
  run = await jobRun();
});

const codes = (report: VerificationReport) => report.failures.map((f) => f.code);

/** A copy of the run at runs/<name> under the same artifacts root (so it finds the same store). */
function copyAs(name: string): string {
  const dir = join(run.root, "runs", name);
  cpSync(run.runDir, dir, { recursive: true });
  return dir;
}

describe("verifyRunDirectory", () => {
  it("passes the untouched run under every policy, and opened or by path gives the same report", () => {
    for (const policy of ["strict", "audit", "permissive"] as const) {
      const report = verifyRunDirectory(run.runDir, { policy, storeRoot: run.root });
      expect(report.verdict, policy).toBe("pass");
      expect(report.policy).toBe(policy);
    }
    const opened = verifyOpenedRun(openRun(run.runDir), { policy: "strict", storeRoot: run.root });
    expect(opened).toEqual(verifyRunDirectory(run.runDir, { policy: "strict", storeRoot: run.root }));
  });

  it("fails a run whose directory is not named by its run id", () => {
    const report = verifyRunDirectory(copyAs("renamed"), { policy: "strict", storeRoot: run.root });
    expect(report.verdict).toBe("fail");
    expect(codes(report)).toContain("RUN_DIR_NAME");
  });

  it("fails, naming the object, when the store given does not hold the run's snapshot and index", () => {
    const report = verifyRunDirectory(run.runDir, { policy: "strict", storeRoot: tempDir() });
    expect(report.verdict).toBe("fail");
    expect(codes(report)).toContain("STORE_OBJECT_MISSING");
  });

  it("fails altered evidence bytes, a symlink and a FIFO in the run as findings, reading none of them", () => {
    const root = tempDir();
    cpSync(run.root, root, { recursive: true });
    const dir = join(root, "runs", run.runId);
    const evidence = join(dir, "evidence", readdirSync(join(dir, "evidence"))[0] as string);
    writeFileSync(evidence, "altered");
    const altered = verifyRunDirectory(dir, { policy: "strict", storeRoot: root });
    expect(codes(altered)).toContain("EVIDENCE_HASH");

    const linked = tempDir();
    cpSync(run.root, linked, { recursive: true });
    const linkedDir = join(linked, "runs", run.runId);
    symlinkSync("/etc/passwd", join(linkedDir, "notes.json"));
    execFileSync("mkfifo", [join(linkedDir, "pipe.json")]);
    const report = verifyRunDirectory(linkedDir, { policy: "strict", storeRoot: linked });
    expect(report.verdict).toBe("fail");
    const messages = report.failures.map((f) => f.message).join("\n");
    expect(messages).toMatch(/notes\.json.*symbolic link/);
    expect(messages).toMatch(/pipe\.json.*FIFO/);
  });

  it("an unsigned run fails requireSignature; a key given for an unsigned run fails too", () => {
    const options = { policy: "strict", storeRoot: run.root } as const;
    expect(codes(verifyRunDirectory(run.runDir, { ...options, requireSignature: true }))).toContain(
      "SIGNATURE_MISSING",
    );
    const { publicKey } = generateKeyPairSync("ed25519");
    const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(codes(verifyRunDirectory(run.runDir, { ...options, publicKeyPem }))).toContain(
      "SIGNATURE_MISSING",
    );
  });

  it("a folder that is not a run is a failed report; a path that cannot be read is E_NOT_A_RUN", () => {
    const empty = tempDir();
    const report = verifyRunDirectory(empty, { policy: "strict", storeRoot: empty });
    expect(report.verdict).toBe("fail");
    const file = join(tempDir(), "file.json");
    writeFileSync(file, "{}");
    for (const path of [file, join(tempDir(), "missing")])
      expect(() => verifyRunDirectory(path, { policy: "strict", storeRoot: tempDir() })).toThrow(
        expect.objectContaining({ code: "E_NOT_A_RUN" }),
      );
  });
});

describe("verifyRunFiles", () => {
  it("verifies a run held in memory as it would at runs/<name>: passes under its id, fails under another", () => {
    const store = new DiskStore(run.root);
    expect(verifyRunFiles(run.files, store, run.runId, { policy: "strict" }).verdict).toBe("pass");
    expect(codes(verifyRunFiles(run.files, store, "elsewhere", { policy: "strict" }))).toContain(
      "RUN_DIR_NAME",
    );
    // A store that holds nothing: the pinned objects are missing.
    expect(codes(verifyRunFiles(run.files, { get: () => null }, run.runId, { policy: "strict" }))).toContain(
      "STORE_OBJECT_MISSING",
    );
  });
});
