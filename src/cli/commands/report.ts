/** `canon-reason report`: a self-contained HTML page of a run, of two runs' diff, or of an eval. */
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { readEvalBaseline, readEvalResults } from "../../app/eval/eval.js";
import { diffReport, evalReport, runReport } from "../../app/report-pages.js";
import { checkOutputFile, prepareOutputFolder, writeOutputFile } from "../../app/store/artifacts.js";
import { InputError } from "../../core/errors.js";
import { terminalProgress } from "../progress.js";
import {
  action,
  artifactsRoot,
  parseNumberOption,
  printJson,
  resolveRunDir,
  storeRootFor,
} from "../shared.js";

interface ReportOptions {
  diff?: boolean;
  eval?: boolean;
  baseline?: string;
  tolerance: number;
  out?: string;
  artifactsDir?: string;
  json?: boolean;
}

/** An eval folder written to its default place, <root>/evals/<name>, has its runs under <root>. */
function evalArtifactsRoot(dir: string, option: string | undefined): string {
  return option === undefined && basename(dirname(dir)) === "evals"
    ? dirname(dirname(dir))
    : artifactsRoot(option);
}

export function registerReport(program: Command): void {
  program
    .command("report")
    .description(
      "write a self-contained HTML page: a run, two runs side by side (--diff), or an eval (--eval)",
    )
    .argument(
      "<target...>",
      "a run (directory or id); two runs with --diff; an eval output folder with --eval",
    )
    .option("--diff", "compare two runs, opening on the first changed layer")
    .option(
      "--eval",
      "an eval output folder (cases.jsonl, summary.json): a sortable case table, each case linked to its run's page",
    )
    .option(
      "--baseline <path>",
      "with --eval: an earlier summary.json, or an eval folder to compare cases too",
    )
    .option(
      "--tolerance <x>",
      "with --baseline: allowed drop per metric (absolute)",
      parseNumberOption("--tolerance"),
      0.01,
    )
    .option(
      "-o, --out <path>",
      "the page to write (run, --diff; default: standard output), or the folder for --eval (default: <DIR>/report)",
    )
    .option(
      "--artifacts-dir <dir>",
      "artifacts root for run ids and stores (default .canon-reason; for --eval, the root DIR is under when it is <root>/evals/<name>)",
    )
    .option("--json", "print what was written as JSON")
    .addHelpText(
      "after",
      `
Examples:
  canon-reason report RUN -o run.html
  canon-reason report --diff RUN_A RUN_B -o diff.html
  canon-reason report --eval .canon-reason/evals/demo --baseline demo/suite/baseline.json

Pages need no network and no server: open them from disk, or print them. A run's checks are
run now (policy audit); a failed check is the first thing on its page. --eval writes
index.html and runs/<run_id>.html into the folder. Exit codes: 0 written, 2 bad input.`,
    )
    .action(
      action((targets: string[], o: ReportOptions) => {
        if (o.diff && o.eval) throw new InputError("E_USAGE", "give --diff or --eval, not both");
        if (o.tolerance < 0)
          throw new InputError("E_USAGE", "--tolerance must not be negative", { field: "--tolerance" });
        if (o.baseline !== undefined && !o.eval)
          throw new InputError("E_USAGE", "--baseline needs --eval", { field: "--baseline" });
        const want = o.diff ? 2 : 1;
        if (targets.length !== want)
          throw new InputError(
            "E_USAGE",
            o.diff
              ? "--diff takes two runs: report --diff RUN_A RUN_B"
              : `takes one ${o.eval ? "eval folder" : "run"}, got ${targets.length}`,
          );
        if (o.eval) return writeEvalReport(targets[0] as string, o);
        const out = o.out === undefined ? undefined : resolve(o.out);
        // Checked before the (possibly long) work, so a folder in the way is found at once.
        if (out !== undefined) checkOutputFile(out);
        let page: ReturnType<typeof runReport>;
        if (o.diff) {
          const a = resolveRunDir(targets[0] as string, o.artifactsDir);
          const b = resolveRunDir(targets[1] as string, o.artifactsDir);
          page = diffReport(
            { runDir: a, storeRoot: storeRootFor(a, o.artifactsDir) },
            { runDir: b, storeRoot: storeRootFor(b, o.artifactsDir) },
          );
        } else {
          const runDir = resolveRunDir(targets[0] as string, o.artifactsDir);
          page = runReport(runDir, storeRootFor(runDir, o.artifactsDir));
        }
        if (out === undefined) {
          process.stdout.write(page.html);
          return 0;
        }
        writeOutputFile(out, page.html);
        if (o.json) printJson({ written: [out] });
        else process.stdout.write(`wrote ${out}\n`);
        return 0;
      }),
    );
}

async function writeEvalReport(target: string, o: ReportOptions): Promise<number> {
  const dir = resolve(target);
  const results = readEvalResults(dir);
  const baseline = o.baseline === undefined ? null : readEvalBaseline(resolve(o.baseline));
  const out = resolve(o.out ?? join(dir, "report"));
  prepareOutputFolder(out);
  const written: string[] = [];
  const made = evalReport(results, {
    artifactsRoot: evalArtifactsRoot(dir, o.artifactsDir),
    baseline,
    tolerance: o.tolerance,
    write: (relative, page) => {
      const path = join(out, relative);
      writeOutputFile(path, page.html);
      written.push(path);
    },
    ...(o.json ? {} : { progress: await terminalProgress(true) }),
  });
  const index = join(out, "index.html");
  if (o.json) printJson({ index, run_pages: made.runs, runs_not_found: made.missing });
  else
    process.stdout.write(
      `wrote ${index} and ${made.runs} run page(s)${made.missing > 0 ? `; ${made.missing} run(s) not found under the artifacts root (use --artifacts-dir)` : ""}\n`,
    );
  return 0;
}
