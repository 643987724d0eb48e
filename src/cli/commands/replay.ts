/** `canon-reason replay`: re-execute a run (frozen, or with live retrieval) and compare traces byte for byte. */
import type { Command } from "commander";
import { replayRunDirectory } from "../../app/verify/replay.js";
import { action, printJson, resolveRun, withRegistry } from "../shared.js";

interface ReplayOptions {
  live?: boolean;
  artifactsDir?: string;
  registry?: string;
  json?: boolean;
}

export function registerReplay(program: Command): void {
  withRegistry(
    program
      .command("replay")
      .description(
        "re-execute a run and compare its trace byte for byte (frozen: tool results from the trace; --live: retrieval re-run)",
      )
      .argument("<run>", "a run directory or a run id under the artifacts root")
      .option(
        "--live",
        "re-run retrieval against the pinned corpus snapshot with the recorded parameters (and ask an llm run's model again)",
      )
      .option(
        "--artifacts-dir <dir>",
        "artifacts root (its store holds the corpus snapshot)",
        ".canon-reason",
      ),
  )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nA run of the llm reasoner replays frozen from its recorded model call (model/<sha256>.json), with no\nnetwork; a missing or altered recording exits 1. Exit codes: 0 identical, 1 mismatch, 2 bad input.",
    )
    .action(
      action(async (ref: string, o: ReplayOptions) => {
        const { runDir, storeRoot } = await resolveRun(ref, o);
        const result = await replayRunDirectory(runDir, storeRoot, o.live ? "live" : "frozen");
        if (o.json) printJson({ run_dir: runDir, ...result });
        else {
          const lines = [
            `Replay (${result.mode}) of ${runDir}`,
            `  recorded trace  sha256:${result.recorded_sha256}`,
            `  replayed trace  sha256:${result.replayed_sha256}`,
            `  ${result.identical ? "IDENTICAL" : "MISMATCH"}`,
          ];
          const d = result.divergence;
          if (d !== null) {
            lines.push(
              `  first divergence at event ${d.index} (${d.kind}), field ${d.field}`,
              `    before: ${JSON.stringify(d.before)}`,
              `    after:  ${JSON.stringify(d.after)}`,
            );
          }
          process.stdout.write(`${lines.join("\n")}\n`);
        }
        return result.identical ? 0 : 1;
      }),
    );
}
