/**
 * The reasoners this build can run, by id and version. Replay and the verifier's re-derivation
 * look a run's recorded reasoner up here: a run made by another reasoner (or version) cannot be
 * re-derived by this build, and says so instead of being re-derived by the wrong one.
 */
import { extractiveReasoner } from "./extractive.js";
import { extractiveReasonerV1 } from "./extractive-v1.js";
import { extractiveReasonerV2 } from "./extractive-v2.js";
import { extractiveReasonerV3 } from "./extractive-v3.js";
import { extractiveReasonerV4 } from "./extractive-v4.js";
import { llmReasoner } from "./llm.js";
import { llmReasonerV1 } from "./llm-v1.js";
import type { Reasoner } from "./reasoner.js";

const key = (r: { id: string; version: string }) => `${r.id}\u0000${r.version}`;
const REASONERS: ReadonlyMap<string, Reasoner> = new Map(
  [
    extractiveReasoner,
    extractiveReasonerV4,
    extractiveReasonerV3,
    extractiveReasonerV2,
    extractiveReasonerV1,
    llmReasoner,
    llmReasonerV1,
  ].map((r) => [key(r), r]),
);

/** The reasoner with exactly this id and version, or null. */
export function findReasoner(recorded: { id: string; version: string }): Reasoner | null {
  return REASONERS.get(key(recorded)) ?? null;
}

/** "id version" of every reasoner this build has, for messages. */
export function knownReasoners(): string {
  return [...REASONERS.values()].map((r) => `${r.id} ${r.version}`).join(", ");
}
