#!/usr/bin/env node
/**
 * The `canon-reason` command line: one file per command under commands/, loaded only when that
 * command runs (see command-table.ts). The others are listed by name and description.
 */
import { Command, CommanderError } from "commander";
import { PRODUCER } from "../version.js";
import { COMMANDS, invokedCommand } from "./command-table.js";

/**
 * A reader that goes away (`canon-reason verify --help | head -1`) ends the process quietly: an
 * EPIPE on stdout or stderr is handled here, once, for every command and every output path.
 */
function quietOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  });
}
quietOnEpipe(process.stdout);
quietOnEpipe(process.stderr);

const program = new Command()
  .name("canon-reason")
  .description(
    "Evidence-grounded answers you can audit: cited bytes, independent verification, byte-for-byte replay.",
  )
  .version(PRODUCER.version)
  .addHelpText(
    "after",
    "\nExit codes: 0 success, 1 a check failed, 2 bad input or usage, 3 internal error or a service\n" +
      "that does not answer. Every error[CODE] and finding code, with what to do: docs/errors.md\n" +
      "(in the package: node_modules/canon-reason/docs/errors.md).",
  )
  .showHelpAfterError("(run with --help for usage)")
  // Usage mistakes are bad input (exit 2), not commander's default exit 1.
  .exitOverride((error: CommanderError) => {
    throw error;
  });

/**
 * The whole command, in a function: the bundle in dist/bin/ is CommonJS (so that the launcher
 * can give V8 a code cache), which has no top-level await.
 */
async function main(): Promise<void> {
  try {
    const invoked = invokedCommand(process.argv.slice(2));
    // Measured on `run` and `verify` of a SciFact run: about 10% less CPU without the JIT.
    if (invoked !== undefined && invoked.longLived !== true) (await import("./zod-jitless.js")).zodJitless();
    const listedTerm = new Map<string, string>();
    for (const entry of COMMANDS) {
      if (entry === invoked) {
        (await entry.load())(program);
        continue;
      }
      for (const name of entry.names) {
        const listed = entry.listed[name];
        if (listed === undefined) continue;
        program.command(name).description(listed.description);
        listedTerm.set(name, listed.term);
      }
    }
    const help = program.createHelp();
    program.configureHelp({
      subcommandTerm: (cmd) => listedTerm.get(cmd.name()) ?? help.subcommandTerm(cmd),
    });
    for (const command of program.commands) command.exitOverride();
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign =
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help";
      process.exitCode = benign ? 0 : 2;
    } else {
      // Loaded only here: shared.js pulls in zod and the store, which `--help` does not need.
      process.exitCode = (await import("./shared.js")).reportError(error);
    }
  }
}

void main();
