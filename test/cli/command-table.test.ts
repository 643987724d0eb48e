import { Command, Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS, invokedCommand } from "../../src/cli/command-table.js";

describe("the lazy command table", () => {
  it("lists every command exactly as its module registers it", async () => {
    const help = new Help();
    for (const entry of COMMANDS) {
      const program = new Command();
      (await entry.load())(program);
      expect(program.commands.map((c) => c.name())).toEqual(entry.names);
      for (const command of program.commands) {
        expect(entry.listed[command.name()]).toEqual({
          term: help.subcommandTerm(command),
          description: command.description(),
        });
      }
    }
  });

  it("names each command once", () => {
    const names = COMMANDS.flatMap((c) => c.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it("loads the command being run, or the one `help` asks about, and nothing for the program's own flags", () => {
    expect(invokedCommand(["run", "q"])?.names).toEqual(["run"]);
    expect(invokedCommand(["keygen"])?.names).toEqual(["verify", "keygen"]);
    expect(invokedCommand(["help", "import"])?.names).toEqual(["export", "import"]);
    expect(invokedCommand(["--help"])).toBeUndefined();
    expect(invokedCommand([])).toBeUndefined();
    expect(invokedCommand(["bogus"])).toBeUndefined();
  });
});
