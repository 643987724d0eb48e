/** The files a run derives from its trace (evidence text, projections), the seal, and volatile/. */
import { type FieldEntry, type FieldPattern, MANIFEST, PROJECTION, REPORT, SIGNED } from "./entries.js";

export const DERIVED_FIELDS: Readonly<Record<FieldPattern, FieldEntry>> = {
  // evidence/<sha256>.txt
  "evidence/*.txt:": {
    kind: "hash",
    how: "evidence_files: the registered evidence's bytes, named by their sha256",
  },

  // Projections of the trace, recomputed.
  "answer.json:*": PROJECTION,
  "provenance/retrieval.json:*": PROJECTION,
  "provenance/chunks.json:*": PROJECTION,

  // The seal.
  "report.json:*": REPORT,
  "manifest.json:*": MANIFEST,
  "signature.json:*": SIGNED,

  // volatile/: never fingerprinted.
  "volatile/*:": {
    kind: "label",
    how: "volatile/ (wall-clock timings): never fingerprinted, never compared",
  },
};
