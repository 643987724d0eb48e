/** `canon-reason eval`: run a suite or a BEIR dataset as real runs, score them, gate on a baseline. */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import {
  type EvalInput,
  type EvalOptions,
  loadBeir,
  loadSuite,
  prepareEvalOutput,
  readBaseline,
  regressions,
  runEval,
  withRationales,
  writeEvalOutput,
} from "../../app/eval/eval.js";
import { openSharedRegistry, registryUrlOf } from "../../app/registry.js";
import { DEFAULT_PRESET } from "../../app/run/run-spec.js";
import { runsRoot } from "../../app/store/artifacts.js";
import { InputError } from "../../core/errors.js";
import { ANALYZERS, type ProblemSpec } from "../../core/models/spec.js";
import { terminalProgress } from "../progress.js";
import {
  action,
  artifactsRoot,
  type ConstraintFlagValues,
  constraintsFromFlags,
  endpointSettings,
  parseIntOption,
  parseNumberOption,
  printJson,
  withConstraintFlags,
  withModelCallFlags,
  withRegistry,
} from "../shared.js";

/** The command's options; the constraint flags are the shared ones (withConstraintFlags). */
interface EvalCliOptions extends ConstraintFlagValues {
  suite?: string;
  beir?: string;
  split: string;
  rationales?: string;
  artifactsDir?: string;
  limit?: number;
  workers: number;
  baseline?: string;
  tolerance: number;
  out?: string;
  preset?: string;
  registry?: string;
  queue?: string;
  json?: boolean;
  maxRps: number;
  modelTimeout: number;
  modelRetries: number;
}

export function registerEval(program: Command): void {
  withRegistry(
    withModelCallFlags(
      withConstraintFlags(
        program
          .command("eval")
          .description(
            "run every case of a suite (or a BEIR dataset) as a real run and score it from the judgments",
          )
          .option("--suite <dir>", "a suite folder: suite.json + problems.jsonl")
          .option("--beir <dir>", "a BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
          .option("--split <name>", "BEIR qrels split", "test")
          .option(
            "--rationales <dir>",
            "with --beir: SciFact-style claims_<split>.jsonl + corpus.jsonl of sentences, to score citations by rationale sentence",
          )
          .option("--limit <n>", "only the first N cases", parseIntOption("--limit"))
          .option(
            "--workers <n>",
            "worker threads (results are identical for any count; not with --queue)",
            parseIntOption("--workers"),
            1,
          )
          .option(
            "--baseline <file>",
            "an earlier summary.json: exit 1 if any metric is worse by more than the tolerance",
          )
          .option(
            "--tolerance <x>",
            "allowed drop per metric (absolute)",
            parseNumberOption("--tolerance"),
            0.01,
          )
          .option(
            "--out <dir>",
            "where cases.jsonl, summary.json and timings.json go, published together with one rename (default <artifacts>/evals/<name>; a folder holding anything else is refused)",
          )
          .option("--preset <name>", "parameter preset (default: the suite's, else default)"),
        "override",
      ).option(
        "--max-rps <x>",
        "llm: at most this many model requests per second over the whole eval, split among the workers (0: no bound; with --queue, see worker --max-rps)",
        parseNumberOption("--max-rps"),
        0,
      ),
    )
      .option("--artifacts-dir <dir>", "artifacts root", ".canon-reason")
      .option(
        "--queue <url>",
        "fan the cases out to `canon-reason worker` processes through this Redis queue (needs --registry); llm cases go to workers started with the same --model-base-url",
      ),
  )
    .option("--json", "print the summary (and any regressions) as JSON")
    .addHelpText(
      "after",
      '\nExit codes: 0 done (and no regression), 1 a metric regressed against --baseline, 2 bad input.\nllm: a case whose request the endpoint rejects (HTTP 400/413/422) is recorded as failed (cases.jsonl status "failed",\nsummary.json failed_cases) and named on stderr; the eval goes on.',
    )
    .action(
      action(async (o: EvalCliOptions, command: Command) => {
        if ((o.suite === undefined) === (o.beir === undefined))
          throw new InputError("E_USAGE", "give exactly one of --suite DIR or --beir DIR");
        if (o.workers < 1 || o.workers > 64)
          throw new InputError("E_USAGE", "--workers must be between 1 and 64", { field: "--workers" });
        if (o.analyzer !== undefined && !(ANALYZERS as readonly string[]).includes(o.analyzer)) {
          throw new InputError("E_USAGE", `unknown analyzer "${o.analyzer}"`, { field: "--analyzer" });
        }
        if (!(o.maxRps >= 0 && o.maxRps <= 10_000))
          throw new InputError("E_USAGE", "--max-rps must be between 0 and 10000", { field: "--max-rps" });
        if (o.limit !== undefined && o.limit < 1)
          throw new InputError("E_USAGE", "--limit must be at least 1", { field: "--limit" });
        if (o.tolerance < 0)
          throw new InputError("E_USAGE", "--tolerance must not be negative", { field: "--tolerance" });
        const { input, baseline } = loadInput(o);
        const root = artifactsRoot(o.artifactsDir);
        const overrides = constraintsFromFlags(o) as ProblemSpec["constraints"];
        // Checked before any case runs, not after: a file in the way of --out is found at once.
        const out = resolve(o.out ?? join(root, "evals", input.name));
        prepareEvalOutput(out);
        // Checked before any case runs: a bad URL or a flag that does not apply fails at once.
        const url = registryUrlOf(o.registry);
        const queueUrl = checkQueueFlags(o, command, url);
        const evalOptions = {
          artifactsRoot: root,
          preset: o.preset ?? input.preset ?? DEFAULT_PRESET,
          overrides,
          workers: o.workers,
          model: { settings: endpointSettings(o.modelTimeout, o.modelRetries), maxRps: o.maxRps },
          ...(o.json ? {} : { progress: await terminalProgress(true) }),
        } as EvalOptions;
        const evaluated = await evaluate(input, evalOptions, root, url, queueUrl);
        writeEvalOutput(out, evaluated);
        const found =
          baseline === undefined ? [] : regressions(baseline.metrics, evaluated.summary.metrics, o.tolerance);
        renderEval(evaluated, out, found, o, baseline !== undefined);
        return found.length === 0 ? 0 : 1;
      }),
    );
}

type Evaluated = Awaited<ReturnType<typeof runEval>>;

/** The suite or BEIR dataset (with its rationales), cut to --limit, and the baseline it is held to. */
function loadInput(o: EvalCliOptions) {
  const baseline = o.baseline === undefined ? undefined : readBaseline(o.baseline);
  if (o.rationales !== undefined && o.beir === undefined)
    throw new InputError("E_USAGE", "--rationales needs --beir");
  const beir = o.beir === undefined ? undefined : loadBeir(resolve(o.beir), o.split);
  const loaded =
    beir === undefined
      ? loadSuite(resolve(o.suite as string))
      : o.rationales === undefined
        ? beir
        : withRationales(beir, resolve(o.rationales), o.split);
  if (baseline !== undefined && baseline.suite !== loaded.name) {
    throw new InputError(
      "E_BASELINE_INVALID",
      `the baseline is for "${baseline.suite}", this eval is "${loaded.name}"`,
      { file: o.baseline as string, field: "suite" },
    );
  }
  const input = o.limit === undefined ? loaded : { ...loaded, cases: loaded.cases.slice(0, o.limit) };
  return { input, baseline };
}

/**
 * The queue URL, when the cases go to workers: it needs a shared registry, and the flags that
 * only a local eval uses are refused (workers call the model, each with its own settings).
 */
function checkQueueFlags(o: EvalCliOptions, command: Command, registryUrl: string | undefined) {
  const queueUrl = o.queue;
  if (queueUrl !== undefined && registryUrl === undefined)
    throw new InputError(
      "E_USAGE",
      "--queue needs a shared registry (--registry or CANON_REASON_DATABASE_URL): workers fetch the corpus from it",
      { field: "--queue" },
    );
  // With --queue the model is called by the workers, each with its own endpoint settings.
  if (queueUrl !== undefined)
    for (const [key, flag] of [
      ["maxRps", "--max-rps"],
      ["modelTimeout", "--model-timeout"],
      ["modelRetries", "--model-retries"],
    ] as const)
      if (command.getOptionValueSource(key) === "cli")
        throw new InputError(
          "E_USAGE",
          `${flag} does not apply with --queue: workers call the model, each with its own setting (worker ${flag})`,
          { field: flag },
        );
  // Accepting it would promise a parallelism the queue's workers decide, not this process.
  if (queueUrl !== undefined && command.getOptionValueSource("workers") === "cli")
    throw new InputError(
      "E_USAGE",
      "--workers does not apply with --queue: the cases run on the worker processes (start more of them, or worker --concurrency)",
      { field: "--workers" },
    );
  return queueUrl;
}

/**
 * Runs the cases: on the queue's workers, which publish each case's run themselves, or here,
 * each case's run then shared through the registry when one is given. The registry is
 * connected before any case runs: one that does not answer fails at once.
 */
async function evaluate(
  input: EvalInput,
  evalOptions: EvalOptions,
  root: string,
  url: string | undefined,
  queueUrl: string | undefined,
): Promise<Evaluated> {
  const registry = url === undefined ? undefined : await openSharedRegistry(url);
  let evaluated: Evaluated;
  try {
    if (queueUrl !== undefined && registry !== undefined) {
      const { JobQueue } = await import("../../queue/queue.js");
      const { parseQueueUrl } = await import("../../queue/connection.js");
      const { runEvalOnQueue } = await import("../../queue/eval.js");
      const queue = new JobQueue(parseQueueUrl(queueUrl));
      try {
        await queue.ready();
        // Workers publish each case's run themselves.
        evaluated = await runEvalOnQueue(input, evalOptions, queue, registry, (line) =>
          process.stderr.write(`canon-reason: warning: ${line}\n`),
        );
      } finally {
        await queue.close();
      }
    } else {
      evaluated = await runEval(input, evalOptions);
      // Every case's run is shared, so any machine can verify or replay it.
      for (const c of evaluated.cases)
        if (c.run_id !== null)
          await registry?.addRun(
            { run_id: c.run_id, item_id: null, item_version: null },
            { runDir: join(runsRoot(root), c.run_id), storeRoot: root },
          );
    }
  } finally {
    await registry?.close();
  }
  return evaluated;
}

/** The summary (and any regressions), as JSON or as a table; failed cases are named on stderr. */
function renderEval(
  evaluated: Evaluated,
  out: string,
  found: ReturnType<typeof regressions>,
  o: EvalCliOptions,
  hasBaseline: boolean,
): void {
  const { summary, timings } = evaluated;
  // A case whose model call the endpoint rejected is counted and named, never hidden.
  const failedCases = evaluated.cases.filter((c) => c.status === "failed");
  if (failedCases.length > 0)
    process.stderr.write(
      `warning: ${failedCases.length} case(s) failed (the model endpoint rejected their request; see cases.jsonl):\n${failedCases
        .slice(0, 5)
        .map((c) => `  ${c.case_id}: ${c.error ?? ""}`)
        .join("\n")}${failedCases.length > 5 ? `\n  ... and ${failedCases.length - 5} more` : ""}\n`,
    );
  if (o.json) printJson({ out, ...summary, timings, regressions: found });
  else {
    const rows = Object.entries(summary.metrics).map(
      ([k, v]) =>
        `  ${k.padEnd(31)} ${v.mean === null ? "n/a".padStart(7) : v.mean.toFixed(4).padStart(7)}   (${v.cases} case(s))`,
    );
    const lines = [
      `${summary.suite}: ${summary.cases} case(s) in ${timings.seconds} s${summary.failed_cases > 0 ? `, ${summary.failed_cases} failed` : ""}`,
      ...rows,
      `written to ${out}`,
    ];
    if (hasBaseline) {
      lines.push(
        found.length === 0
          ? `baseline: no metric worse by more than ${o.tolerance}`
          : `REGRESSION against the baseline (tolerance ${o.tolerance}):\n${found.map((r) => `  ${r.metric}: ${r.baseline.toFixed(4)} -> ${r.current === null ? "n/a" : r.current.toFixed(4)}`).join("\n")}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
