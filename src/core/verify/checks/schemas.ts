/** schemas (INV-SCH-001): every artifact parses against its schema at a supported version. */
import type { Check } from "../check.js";

/** The adapter already parsed every file; this check reports what it found. */
export function schemasCheck(parseIssues: ReturnType<Check["run"]>["issues"]): Check {
  return {
    name: "schemas",
    invariant: "INV-SCH-001",
    description: "every artifact parses against its schema, in canonical form, at a supported version",
    run: (view) => ({
      issues: parseIssues,
      details:
        parseIssues.length === 0
          ? `${[...view.files.keys()].filter((p) => p.endsWith(".json") || p.endsWith(".jsonl")).length} JSON artifacts parse and are canonical`
          : `${parseIssues.length} artifact problem(s)`,
    }),
  };
}
