/** schemas (INV-SCH-001): every artifact parses against its schema at a supported version. */
import { SCHEMA_VERSIONS } from "../../artifact/versions.js";
import type { Check } from "../check.js";
import { type Finding, finding } from "../findings.js";

/**
 * The adapter already parsed every file and the verifier hands over what it found (the context's
 * read problems); this check adds that run.json records exactly the schema versions this
 * verifier reads (docs/design.md §10).
 */
export const schemasCheck: Check = {
  name: "schemas",
  readsSeal: true,
  invariant: "INV-SCH-001",
  description: "every artifact parses against its schema, in canonical form, at a supported version",
  run(view, context) {
    const findings: Finding[] = [...context.readProblems];
    const recorded: Record<string, string> = view.run?.inputs.schema_versions ?? SCHEMA_VERSIONS;
    const supported: Record<string, string> = SCHEMA_VERSIONS;
    for (const component of new Set([...Object.keys(recorded), ...Object.keys(supported)])) {
      if (recorded[component] !== supported[component])
        findings.push(
          finding("SCHEMA_VERSIONS", {
            component,
            recorded: recorded[component] ?? "nothing",
            supported: supported[component] ?? "none",
          }),
        );
    }
    const artifacts = [...view.files.keys()].filter((p) => p.endsWith(".json") || p.endsWith(".jsonl"));
    return {
      findings,
      details:
        findings.length === 0
          ? `${artifacts.length} JSON artifacts parse, are canonical and at supported versions`
          : `${findings.length} artifact problem(s)`,
    };
  },
};
