/** Wires the verifier to the disk: one run directory, read through the one reader, and its store. */
import { basename } from "node:path";
import type { Policy, VerificationReport } from "../../core/models/verification-report.js";
import type { RebuildRecords } from "../../core/verify/pinned-index.js";
import { type StoreReader, verifyParsedRun, verifyRun } from "../../core/verify/verifier.js";
import { localRebuildRecords } from "../../io/index-cache/rebuild-records.js";
import { type OpenedRun, openRun } from "../../io/runs/run-reader.js";
import { DiskStore } from "../../io/store/content-store.js";

export { RUN_FILES } from "../../core/artifact/files.js";
export { type SignatureState, signatureState } from "../../core/verify/checks/signature.js";
export { recordedLabels } from "../../core/verify/inventory.js";
export { describeChecks } from "../../core/verify/verifier.js";
export { type OpenedRun, openRun, requireParts } from "../../io/runs/run-reader.js";

export interface VerifyDirectoryOptions {
  policy: Policy;
  /** The artifacts root whose store holds the run's corpus snapshot and index. */
  storeRoot: string;
  publicKeyPem?: string;
  /** An unsigned run fails. */
  requireSignature?: boolean;
  /**
   * Index rebuilds already seen to agree (default: this user's local records, authenticated
   * with a key outside the artifacts dir; `--policy strict` rebuilds regardless).
   */
  rebuilds?: RebuildRecords;
}

/** Verifies a run already opened (so a caller that also shows it reads it once). */
export function verifyOpenedRun(run: OpenedRun, options: VerifyDirectoryOptions): VerificationReport {
  // openRun parsed these very files with the verifier's own adapter: not parsed twice.
  const parsed = { view: run.view, problems: run.problems };
  return verifyParsedRun(
    {
      files: run.files,
      anomalies: run.anomalies,
      store: new DiskStore(options.storeRoot),
      policy: options.policy,
      stage: "sealed",
      runDirName: basename(run.runDir),
      rebuilds: options.rebuilds ?? localRebuildRecords(),
      ...(options.requireSignature === true ? { requireSignature: true } : {}),
      ...(options.publicKeyPem === undefined ? {} : { publicKeyPem: options.publicKeyPem }),
    },
    parsed,
  );
}

export function verifyRunDirectory(runDir: string, options: VerifyDirectoryOptions): VerificationReport {
  return verifyOpenedRun(openRun(runDir), options);
}

/**
 * Verifies a run held in memory, read from nowhere yet (import verifies a bundle's run this way
 * before publishing it): as `verify` would once it is at runs/<runDirName>.
 */
export function verifyRunFiles(
  files: ReadonlyMap<string, Uint8Array>,
  store: StoreReader,
  runDirName: string,
  options: Omit<VerifyDirectoryOptions, "storeRoot">,
): VerificationReport {
  return verifyRun({
    files,
    anomalies: [],
    store,
    policy: options.policy,
    stage: "sealed",
    runDirName,
    rebuilds: options.rebuilds ?? localRebuildRecords(),
    ...(options.requireSignature === true ? { requireSignature: true } : {}),
    ...(options.publicKeyPem === undefined ? {} : { publicKeyPem: options.publicKeyPem }),
  });
}
