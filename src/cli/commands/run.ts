/** `canon-reason run`: answer a question from a corpus and write an auditable run. */

import { dirname, isAbsolute, resolve } from "node:path";
import type { Command } from "commander";
import { openSharedRegistry, registryUrlOf } from "../../app/registry.js";
import { runJob, runSummary } from "../../app/run/run-job.js";
import {
  checkSpec,
  DEFAULT_PRESET,
  hasLoneSurrogate,
  loneSurrogateError,
  PRESETS,
  parseCorpusRef,
  readUserJson,
  zodToInputError,
} from "../../app/run/run-spec.js";
import { signingSeal } from "../../app/store/keys.js";
import { InputError } from "../../core/errors.js";
import { ProblemSpec } from "../../core/models/spec.js";
import { terminalProgress } from "../progress.js";
import { renderAnswer } from "../render.js";
import {
  action,
  artifactsRoot,
  type ConstraintFlagValues,
  constraintsFromFlags,
  endpointSettings,
  parseIntOption,
  printJson,
  withConstraintFlags,
  withCorpusLimits,
  withModelCallFlags,
  withRegistry,
} from "../shared.js";

/** The command's options; the constraint flags are the shared ones (withConstraintFlags). */
interface RunOptions extends ConstraintFlagValues {
  registry?: string;
  spec?: string;
  corpus?: string;
  minSupports?: number;
  maxCitations?: number;
  seed: number;
  preset: string;
  artifactsDir?: string;
  maxCorpusBytes: number;
  maxDocuments: number;
  maxChunks: number;
  json?: boolean;
  sign?: string;
  modelTimeout?: number;
  modelRetries?: number;
}

/** Builds the ProblemSpec from --spec and/or the question and flags; flags override the file. */
export function specFromOptions(question: string | undefined, o: RunOptions): ProblemSpec {
  let raw: Record<string, unknown> = {};
  let file = "<command line>";
  if (o.spec !== undefined) {
    file = o.spec;
    const parsed = readUserJson(o.spec);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new InputError("E_SPEC_INVALID", "a spec must be a JSON object", { file });
    }
    raw = { ...(parsed as Record<string, unknown>) };
    const constraints = raw.constraints;
    if (
      "constraints" in raw &&
      (typeof constraints !== "object" || constraints === null || Array.isArray(constraints))
    ) {
      throw new InputError("E_SPEC_INVALID", 'must be an object, e.g. {"corpus": "docs/"}', {
        file,
        field: "constraints",
      });
    }
    // A corpus path in a spec file is relative to the spec file, like any path in a config file.
    if (typeof constraints === "object" && constraints !== null && !Array.isArray(constraints)) {
      const c = constraints as Record<string, unknown>;
      if (typeof c.corpus === "string" && parseCorpusRef(c.corpus).kind === "path" && !isAbsolute(c.corpus)) {
        raw.constraints = { ...c, corpus: resolve(dirname(o.spec), c.corpus) };
      }
    }
  } else if (question === undefined) {
    throw new InputError(
      "E_USAGE",
      'give a question, e.g. canon-reason run "Why ...?" --corpus PATH, or --spec FILE',
    );
  }
  const constraints: Record<string, unknown> = {
    ...((raw.constraints as Record<string, unknown> | undefined) ?? {}),
  };
  const corpus =
    o.corpus === undefined || parseCorpusRef(o.corpus).kind === "snapshot" ? o.corpus : resolve(o.corpus);
  Object.assign(constraints, corpus === undefined ? {} : { corpus }, constraintsFromFlags(o));
  if (o.minSupports !== undefined) constraints.min_supports_per_claim = o.minSupports;
  if (o.maxCitations !== undefined) constraints.max_citations = o.maxCitations;
  const candidate = {
    version: "1",
    ...raw,
    ...(question === undefined ? {} : { description: question }),
    constraints,
  };
  if (question !== undefined && hasLoneSurrogate(question)) {
    throw loneSurrogateError({
      file: "<command line>",
      field: "question",
    });
  }
  const result = ProblemSpec.safeParse(candidate);
  if (!result.success) throw zodToInputError(result.error, "E_SPEC_INVALID", file);
  // Constraints that clash (overlap_chars >= chunk_chars, ...) are this file's fault: say so.
  try {
    checkSpec(result.data, o.preset);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const field = error.where.field === "preset" ? "--preset" : error.where.field;
    throw new InputError(
      error.code,
      error.message,
      {
        ...(field === "--preset" || o.spec === undefined ? {} : { file }),
        ...(field === undefined ? {} : { field }),
      },
      error,
    );
  }
  if (result.data.constraints.corpus === undefined && result.data.constraints.needs_retrieval !== false) {
    throw new InputError(
      "E_USAGE",
      "a corpus is required: --corpus PATH (a .jsonl file or a folder of .txt/.md files)",
      {
        field: "corpus",
      },
    );
  }
  return result.data;
}

export function registerRun(program: Command): void {
  const cmd = withRegistry(
    withCorpusLimits(
      withConstraintFlags(
        program
          .command("run")
          .description("answer a question from a corpus; every claim cites exact evidence bytes")
          .argument("[question]", "the question to answer")
          .option("--spec <file>", "a ProblemSpec JSON file (flags override its constraints)")
          .option(
            "--corpus <path>",
            "corpus: a .jsonl(.gz) file (doc_id or _id, text, title?, source?) or a folder of .txt/.md",
          ),
        "set",
      )
        .option("--min-supports <n>", "evidence supports a claim needs", parseIntOption("--min-supports"))
        .option("--max-citations <n>", "citations per claim at most", parseIntOption("--max-citations"))
        .option("--seed <n>", "seed recorded in the run id", parseIntOption("--seed", { min: 0 }), 0)
        .option("--preset <name>", `parameter preset: ${Object.keys(PRESETS).join(", ")}`, DEFAULT_PRESET)
        .option("--artifacts-dir <dir>", "artifacts root", ".canon-reason"),
    ),
  );
  withModelCallFlags(cmd)
    .option("--sign <key>", "sign the manifest root digest with this Ed25519 private key (see keygen)")
    .option(
      "--json",
      "print one JSON object: run_id, run_dir, corpus_documents, answer, claims, verification",
    )
    .action(
      action(async (question: string | undefined, o: RunOptions) => {
        const spec = specFromOptions(question, o);
        const seal = o.sign === undefined ? undefined : signingSeal(o.sign);
        const url = registryUrlOf(o.registry);
        const registry = url === undefined ? undefined : await openSharedRegistry(url);
        const root = artifactsRoot(o.artifactsDir);
        let result: Awaited<ReturnType<typeof runJob>>;
        try {
          result = await runJob({
            spec,
            preset: o.preset,
            seed: o.seed,
            artifactsRoot: root,
            limits: { max_bytes: o.maxCorpusBytes, max_documents: o.maxDocuments, max_chunks: o.maxChunks },
            progress: await terminalProgress(!o.json),
            model: { settings: endpointSettings(o.modelTimeout, o.modelRetries) },
            ...(seal === undefined ? {} : { seal }),
          } as Parameters<typeof runJob>[0]);
          await registry?.addRun(
            { run_id: result.runId, item_id: null, item_version: null },
            { runDir: result.runDir, storeRoot: root },
          );
        } finally {
          await registry?.close();
        }
        if (result.signatureKept)
          process.stderr.write(
            `note: ${result.runDir} is this run, signed; kept with its signature (an unsigned run never replaces a signed one)\n`,
          );
        if (o.json) {
          const { run_id, ...summary } = runSummary(result);
          printJson({ run_id, run_dir: result.runDir, corpus_documents: result.corpusDocuments, ...summary });
        } else {
          process.stdout.write(
            renderAnswer(result.answer, result.report, result.runDir, result.corpusDocuments),
          );
        }
        return result.report.verdict === "pass" ? 0 : 1;
      }),
    );
}
