/**
 * The reasoners this build can run, by id and version. Replay and the verifier's re-derivation
 * look a run's recorded reasoner up here: a run made by another reasoner (or version) cannot be
 * re-derived by this build, and says so instead of being re-derived by the wrong one.
 */
import { extractiveReasoner } from "./extractive.js";
import type { Reasoner } from "./reasoner.js";

const REASONERS: ReadonlyMap<string, Reasoner> = new Map([[extractiveReasoner.id, extractiveReasoner]]);

/** The reasoner with exactly this id and version, or null. */
export function findReasoner(recorded: { id: string; version: string }): Reasoner | null {
  const reasoner = REASONERS.get(recorded.id);
  return reasoner !== undefined && reasoner.version === recorded.version ? reasoner : null;
}

/** "id version" of every reasoner this build has, for messages. */
export function knownReasoners(): string {
  return [...REASONERS.values()].map((r) => `${r.id} ${r.version}`).join(", ");
}
