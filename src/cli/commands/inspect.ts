/** `canon-reason inspect`: a readable summary of a run: question, answer, evidence, ranking, checks. */
import type { Command } from "commander";
import { InputError } from "../../core/errors.js";
import { readRunDirectory } from "../../io/run-reader.js";
import { action, printJson, resolveRunDir } from "../shared.js";

interface InspectOptions {
  artifactsDir?: string;
  json?: boolean;
}

function parseJsonFile(
  files: Map<string, Uint8Array>,
  path: string,
  runDir: string,
): Record<string, unknown> {
  const bytes = files.get(path);
  if (bytes === undefined) throw new InputError("E_NOT_A_RUN", `${path} is missing`, { file: runDir });
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new InputError(
      "E_NOT_A_RUN",
      `${path} is not valid JSON (run \`canon-reason verify\` for details)`,
      { file: runDir },
    );
  }
}

type Row = Record<string, unknown>;

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("summarize a run: question, answer, claims with quoted evidence, retrieval ranking, checks")
    .argument("<run>", "a run directory or a run id under the artifacts root")
    .option("--artifacts-dir <dir>", "artifacts root", ".canon-reason")
    .option("--json", "print the summary as JSON")
    .action(
      action((ref: string, o: InspectOptions) => {
        const runDir = resolveRunDir(ref, o.artifactsDir);
        const { files } = readRunDirectory(runDir);
        const answer = parseJsonFile(files, "answer.json", runDir);
        const report = parseJsonFile(files, "report.json", runDir);
        const retrieval = files.has("provenance/retrieval.json")
          ? parseJsonFile(files, "provenance/retrieval.json", runDir)
          : null;
        const summary = { run_dir: runDir, answer, retrieval, report };
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
          `Checks (policy ${String(report.policy)}): verdict ${String(report.verdict).toUpperCase()}`,
        );
        for (const check of (report.checks as Row[] | undefined) ?? []) {
          out.push(
            `  ${check.passed ? "pass" : "FAIL"}  ${String(check.name).padEnd(22)} ${String(check.invariant).padEnd(16)} ${String(check.details)}`,
          );
        }
        process.stdout.write(`${out.join("\n")}\n`);
        return 0;
      }),
    );
}
