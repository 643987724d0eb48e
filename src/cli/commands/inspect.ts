/** `canon-reason inspect`: a readable summary of a run: question, answer, evidence, ranking, checks. */
import type { Command } from "commander";
import {
  openRun,
  RUN_FILES,
  recordedLabels,
  requireParts,
  verifyOpenedRun,
} from "../../app/verify/verify.js";
import { action, printJson, resolveRun, withRegistry } from "../shared.js";

interface InspectOptions {
  artifactsDir?: string;
  registry?: string;
  json?: boolean;
}

type Row = Record<string, unknown>;

export function registerInspect(program: Command): void {
  withRegistry(
    program
      .command("inspect")
      .description(
        "summarize a run: question, answer, claims with quoted evidence, retrieval ranking, and its checks run now (exit 1 when one fails)",
      )
      .argument("<run>", "a run directory or a run id under the artifacts root")
      .option("--artifacts-dir <dir>", "artifacts root", ".canon-reason"),
  )
    .option("--json", "print the summary as JSON")
    .action(
      action(async (ref: string, o: InspectOptions) => {
        const { runDir, storeRoot } = await resolveRun(ref, o);
        const opened = openRun(runDir);
        const answer = requireParts(opened, ["answer"]).answer as unknown as Row;
        const retrieval = (opened.view.provenance.get(RUN_FILES.retrieval) ?? null) as Row | null;
        // The stored report.json says what the producer found; inspect shows what holds now.
        const report = verifyOpenedRun(opened, {
          policy: "audit",
          storeRoot,
        }) as unknown as Row;
        // Labels: what the run records that no check can establish (issue 19).
        const labels = recordedLabels(opened.files);
        const summary = {
          run_dir: runDir,
          answer,
          retrieval,
          verification: report,
          recorded_not_verified: labels,
        };
        if (o.json) {
          printJson(summary);
          return 0;
        }
        const out: string[] = [
          `Run       ${String(answer.run_id)}`,
          `Directory ${runDir}`,
          `Question  ${String(answer.question)}`,
          "",
        ];
        out.push(
          answer.status === "answered"
            ? `Answer    ${String(answer.answer)}`
            : `Answer    insufficient evidence: ${String(answer.uncertainty)}`,
        );
        for (const claim of (answer.claims as Row[] | undefined) ?? []) {
          out.push(
            "",
            `Claim ${String(claim.id).slice(0, 22)}…  status ${String(claim.status)}  confidence ${String(claim.confidence)}`,
          );
          for (const c of (claim.citations as Row[] | undefined) ?? []) {
            const span = c.doc_span as [number, number];
            out.push(`  "${String(c.quote)}"`, `     ${String(c.doc_id)} bytes ${span[0]}-${span[1]}`);
          }
        }
        if (retrieval !== null) {
          const prov = retrieval.provenance as Row;
          out.push(
            "",
            `Retrieval  query "${String(retrieval.query)}"  top_k ${String(retrieval.top_k)}  analyzer ${String((prov.analyzer as Row).name)}  k1 ${String(prov.k1)}  b ${String(prov.b)}`,
            `           corpus sha256:${String(prov.corpus_snapshot).slice(0, 16)}…  index sha256:${String(prov.index_hash).slice(0, 16)}…`,
          );
          for (const hit of (retrieval.ranking as Row[] | undefined) ?? []) {
            const span = hit.span as [number, number];
            out.push(
              `  ${String(hit.rank).padStart(3)}. ${String(hit.score).padEnd(10)} ${String(hit.doc_id)} [${span[0]}-${span[1]}]`,
            );
          }
        }
        out.push(
          "",
          `Checks (verified now, policy ${String(report.policy)}): verdict ${String(report.verdict).toUpperCase()}`,
        );
        for (const check of (report.checks as Row[] | undefined) ?? []) {
          out.push(
            `  ${check.passed ? "pass" : "FAIL"}  ${String(check.name).padEnd(22)} ${String(check.invariant).padEnd(16)} ${String(check.details)}`,
          );
        }
        for (const f of (report.failures as Row[] | undefined) ?? [])
          out.push(`  [${String(f.severity)}] ${String(f.check)} ${String(f.code)}: ${String(f.message)}`);
        if (labels.length > 0) {
          out.push("", "Recorded, not verified (labels no check can establish):");
          for (const label of labels) out.push(`  ${label.field.padEnd(44)} ${label.value}`);
        }
        process.stdout.write(`${out.join("\n")}\n`);
        return report.verdict === "pass" ? 0 : 1;
      }),
    );
}
