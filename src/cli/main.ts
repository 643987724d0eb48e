#!/usr/bin/env node
/** The `canon-reason` command line: one file per command under commands/. */
import { Command, CommanderError } from "commander";
import { PRODUCER } from "../version.js";
import { registerBundle } from "./commands/bundle.js";
import { registerDiff } from "./commands/diff.js";
import { registerEval } from "./commands/eval.js";
import { registerIndex } from "./commands/index-cmd.js";
import { registerInit } from "./commands/init.js";
import { registerInspect } from "./commands/inspect.js";
import { registerReplay } from "./commands/replay.js";
import { registerRun } from "./commands/run.js";
import { registerServe } from "./commands/serve.js";
import { registerVerify } from "./commands/verify.js";
import { registerWorker } from "./commands/worker.js";
import { reportError } from "./shared.js";

const program = new Command()
  .name("canon-reason")
  .description(
    "Evidence-grounded answers you can audit: cited bytes, independent verification, byte-for-byte replay.",
  )
  .version(PRODUCER.version)
  .showHelpAfterError("(run with --help for usage)")
  // Usage mistakes are bad input (exit 2), not commander's default exit 1.
  .exitOverride((error: CommanderError) => {
    throw error;
  });

for (const register of [
  registerInit,
  registerRun,
  registerInspect,
  registerIndex,
  registerVerify,
  registerReplay,
  registerDiff,
  registerBundle,
  registerEval,
  registerServe,
  registerWorker,
])
  register(program);
for (const command of program.commands) command.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    const benign =
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help";
    process.exitCode = benign ? 0 : 2;
  } else {
    process.exitCode = reportError(error);
  }
}
