/** `canon-reason export` / `import`: move a run with its store objects to another machine. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { verifyRunDirectory } from "../../app/verify.js";
import { exportRun, importRun } from "../../io/bundle.js";
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
    .description("restore a bundle under an artifacts root (every object re-hashed), then verify it")
    .argument("<file>", "a bundle written by export")
    .option("--artifacts-dir <dir>", "artifacts root to restore into", ".canon-reason")
    .option("--json", "print the result as JSON")
    .action(
      action(async (file: string, o: { artifactsDir?: string; json?: boolean }) => {
        const root = artifactsRoot(o.artifactsDir);
        const result = await importRun(resolve(file), root, {
          isSound: (runDir) =>
            verifyRunDirectory(runDir, { policy: "audit", storeRoot: root }).verdict === "pass",
        });
        const report = verifyRunDirectory(result.runDir, { policy: "audit", storeRoot: root });
        if (o.json)
          printJson({ ...result, verification: { verdict: report.verdict, summary: report.summary } });
        else
          process.stdout.write(
            `imported ${result.runId} (${result.created ? "new" : "already present"}, ${result.objects} store objects) -> ${result.runDir}\nverification: ${report.verdict.toUpperCase()}\n`,
          );
        return report.verdict === "pass" ? 0 : 1;
      }),
    );
}
