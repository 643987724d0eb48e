/** `canon-reason export` / `import`: move a run with its store objects to another machine. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { exportRun, importRun } from "../../app/store/bundle.js";
import { verifyRunDirectory, verifyRunFiles } from "../../app/verify/verify.js";
import { action, artifactsRoot, printJson, resolveRun, withRegistry } from "../shared.js";

export function registerBundle(program: Command): void {
  withRegistry(
    program
      .command("export")
      .description(
        "write one self-contained bundle: the run plus the corpus snapshot and index it references",
      )
      .argument("<run>", "a run directory or a run id under the artifacts root")
      .requiredOption("-o, --out <file>", "bundle file to write, a .tar.gz (e.g. run.tar.gz)")
      .option("--artifacts-dir <dir>", "artifacts root", ".canon-reason"),
  )
    .option("--json", "print the result as JSON")
    .action(
      action(
        async (ref: string, o: { out: string; artifactsDir?: string; registry?: string; json?: boolean }) => {
          const { runDir, storeRoot } = await resolveRun(ref, o);
          const result = {
            bundle: resolve(o.out),
            ...(await exportRun(runDir, storeRoot, resolve(o.out))),
          };
          if (o.json) printJson(result);
          else
            process.stdout.write(
              `exported ${result.runId}: ${result.files} files, ${result.objects} store objects, ${result.bytes} bytes -> ${result.bundle}\n`,
            );
          return 0;
        },
      ),
    );
  program
    .command("import")
    .description(
      "verify a bundle's run over its staged store objects, then publish it under an artifacts root only if it passes",
    )
    .argument("<file>", "a bundle written by export (a regular file)")
    .option("--artifacts-dir <dir>", "artifacts root to restore into", ".canon-reason")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nNothing is published unless the run passes verification (audit policy); store objects the run does not\nreference are not kept.\n\nExit codes: 0 imported and verified, 1 the run fails verification (nothing published), 2 not a bundle or bad input.",
    )
    .action(
      action(async (file: string, o: { artifactsDir?: string; json?: boolean }) => {
        const root = artifactsRoot(o.artifactsDir);
        const result = await importRun(resolve(file), root, {
          isSound: (runDir) =>
            verifyRunDirectory(runDir, { policy: "audit", storeRoot: root }).verdict === "pass",
          verify: (files, store, runId) => verifyRunFiles(files, store, runId, { policy: "audit" }),
        });
        const { report, ...rest } = result;
        if (o.json)
          printJson({ ...rest, verification: { verdict: report.verdict, summary: report.summary } });
        else if (result.published)
          process.stdout.write(
            `imported ${result.runId} (${result.created ? "new" : "already present"}, ${result.objects} store objects${result.skipped > 0 ? `, ${result.skipped} unreferenced skipped` : ""}) -> ${result.runDir}\nverification: ${report.verdict.toUpperCase()}\n`,
          );
        else
          process.stdout.write(
            `not imported: ${result.runId} fails verification (nothing published)\n${report.failures
              .filter((f) => f.severity === "error")
              .map((f) => `  [${f.severity}] ${f.check} ${f.code}: ${f.message}\n`)
              .join("")}verification: ${report.verdict.toUpperCase()}\n`,
          );
        return result.published ? 0 : 1;
      }),
    );
}
