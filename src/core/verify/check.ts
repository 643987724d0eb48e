/** The shape of a verification check: a named pure function with an invariant id (SPEC §5). */

import type { RunView } from "../artifact/view.js";
import type { Finding } from "./findings.js";

/** Read access to the content-addressed store; get() re-hashes and throws on corruption. */
export interface StoreReader {
  get(hash: string): Uint8Array | null;
}

export interface CheckContext {
  store: StoreReader;
  /** "sealing": the run writer verifies before report.json and manifest.json exist. */
  stage: "sealing" | "sealed";
  publicKeyPem?: string;
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
  run(view: RunView, context: CheckContext): CheckOutcome;
}
