/** The shape of a verification check: a named pure function with an invariant id (docs/design.md §5). */
import type { ReadProblem } from "../artifact/read-problems.js";
import type { RunView } from "../artifact/view.js";
import type { VerificationReport } from "../models/verification-report.js";
import type { Finding } from "./findings.js";
import type { RebuildRecords } from "./pinned-index.js";

/** Read access to the content-addressed store; get() re-hashes and throws on corruption. */
export interface StoreReader {
  get(hash: string): Uint8Array | null;
}

export interface CheckContext {
  store: StoreReader;
  /** "sealing": the run writer verifies before report.json and manifest.json exist. */
  stage: "sealing" | "sealed";
  /** What the adapter (core/artifact/view.ts) met parsing the files; the schemas check reports them. */
  readProblems: readonly ReadProblem[];
  publicKeyPem?: string;
  /** An unsigned run fails the signature check (`verify --require-signature`, or a given key). */
  requireSignature?: boolean;
  /** The name of the directory the run was read from, when it was read from one. */
  runDirName?: string;
  /**
   * The report this verifier writes when sealing the run (without its report, manifest and
   * signature), computed on demand; only given at the "sealed" stage.
   */
  sealingReport?: () => VerificationReport;
  /**
   * When the pinned index is rebuilt from the snapshot and compared: "always" (`--policy
   * strict`) or "by-size" (up to REBUILD_INDEX_MAX_BYTES of snapshot; the sealing report too).
   */
  rebuildIndex?: "always" | "by-size";
  /** Rebuilds already seen to agree, asked before rebuilding under "by-size" (see RebuildRecords). */
  rebuilds?: RebuildRecords;
}

/** What a check returns: typed findings (severity and wording are applied by the orchestrator). */
export interface CheckOutcome {
  findings: Finding[];
  details: string;
  metrics?: Record<string, number>;
}

export interface Check {
  name: string;
  invariant: string;
  /** What must hold, for the report and the docs. */
  description: string;
  /**
   * True when the outcome can depend on report.json, manifest.json, signature.json, the
   * directory's anomalies or the stage. Other checks see the same inputs when the verifier
   * recomputes the sealing report, so their outcome is reused instead of computed twice.
   */
  readsSeal?: true;
  run(view: RunView, context: CheckContext): CheckOutcome;
}
