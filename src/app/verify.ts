/** Wires the verifier to the disk: one run directory, read through the one reader, and its store. */
import { basename } from "node:path";
import type { Policy, VerificationReport } from "../core/models/report.js";
import { verifyRun } from "../core/verify/verifier.js";
import { type OpenedRun, openRun } from "../io/run-reader.js";
import { DiskStore } from "../io/store.js";

export interface VerifyDirectoryOptions {
  policy: Policy;
  /** The artifacts root whose store holds the run's corpus snapshot and index. */
  storeRoot: string;
  publicKeyPem?: string;
  /** An unsigned run fails. */
  requireSignature?: boolean;
}

/** Verifies a run already opened (so a caller that also shows it reads it once). */
export function verifyOpenedRun(run: OpenedRun, options: VerifyDirectoryOptions): VerificationReport {
  return verifyRun({
    files: run.files,
    anomalies: run.anomalies,
    store: new DiskStore(options.storeRoot),
    policy: options.policy,
    stage: "sealed",
    runDirName: basename(run.runDir),
    ...(options.requireSignature === true ? { requireSignature: true } : {}),
    ...(options.publicKeyPem === undefined ? {} : { publicKeyPem: options.publicKeyPem }),
  });
}

export function verifyRunDirectory(runDir: string, options: VerifyDirectoryOptions): VerificationReport {
  return verifyOpenedRun(openRun(runDir), options);
}
