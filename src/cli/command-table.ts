/**
 * Every command, with what `canon-reason --help` lists for it, and how to load it. main.ts loads
 * only the module of the command being run, so `--help` and a run do not parse and compile the
 * code of every other command; test/cli/command-table.test.ts keeps the listed terms and
 * descriptions equal to what each module registers.
 */
import type { Command } from "commander";

type Register = (program: Command) => void;

export interface CommandEntry {
  /** The command names the module registers. */
  names: readonly string[];
  /** Per name: how the top-level help lists it (usage term, description). */
  listed: Readonly<Record<string, { term: string; description: string }>>;
  load: () => Promise<Register>;
  /**
   * Serves many requests in one process (eval, serve). The others parse a handful of objects and
   * exit, so compiling zod's fast-path parsers costs them more than it saves.
   */
  longLived?: true;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    names: ["init"],
    listed: {
      init: {
        term: "init [options]",
        description: "write a sample spec (canon-spec.json) that points at the bundled demo corpus",
      },
    },
    load: async () => (await import("./commands/init.js")).registerInit,
  },
  {
    names: ["run"],
    listed: {
      run: {
        term: "run [options] [question]",
        description: "answer a question from a corpus; every claim cites exact evidence bytes",
      },
    },
    load: async () => (await import("./commands/run.js")).registerRun,
  },
  {
    names: ["inspect"],
    listed: {
      inspect: {
        term: "inspect [options] <run>",
        description:
          "summarize a run: question, answer, claims with quoted evidence, retrieval ranking, and its checks run now (exit 1 when one fails)",
      },
    },
    load: async () => (await import("./commands/inspect.js")).registerInspect,
  },
  {
    names: ["report"],
    listed: {
      report: {
        term: "report [options] <target...>",
        description:
          "write a self-contained HTML page: a run, two runs side by side (--diff), or an eval (--eval)",
      },
    },
    load: async () => (await import("./commands/report.js")).registerReport,
  },
  {
    names: ["index"],
    listed: {
      index: {
        term: "index [options] <path>",
        description:
          "snapshot a corpus and build (or reuse) its BM25 index; prints the corpus and index hashes",
      },
    },
    load: async () => (await import("./commands/index-cmd.js")).registerIndex,
  },
  {
    names: ["verify", "keygen"],
    listed: {
      verify: {
        term: "verify [options] <run>",
        description:
          "recompute every id, hash and cited byte of a run and check every invariant of its checks",
      },
      keygen: {
        term: "keygen [options]",
        description: "make an Ed25519 key pair for signing runs (run --sign KEY, verify --pubkey PUB)",
      },
    },
    load: async () => (await import("./commands/verify.js")).registerVerify,
  },
  {
    names: ["replay"],
    listed: {
      replay: {
        term: "replay [options] <run>",
        description:
          "re-execute a run and compare its trace byte for byte (frozen: tool results from the trace; --live: retrieval re-run)",
      },
    },
    load: async () => (await import("./commands/replay.js")).registerReplay,
  },
  {
    names: ["diff"],
    listed: {
      diff: {
        term: "diff [options] <run-a> <run-b>",
        description: "compare two runs layer by layer and name the first layer that changed",
      },
    },
    load: async () => (await import("./commands/diff.js")).registerDiff,
  },
  {
    names: ["export", "import"],
    listed: {
      export: {
        term: "export [options] <run>",
        description:
          "write one self-contained bundle: the run plus the corpus snapshot and index it references",
      },
      import: {
        term: "import [options] <file>",
        description:
          "verify a bundle's run over its staged store objects, then publish it under an artifacts root only if it passes",
      },
    },
    load: async () => (await import("./commands/bundle.js")).registerBundle,
  },
  {
    names: ["eval"],
    listed: {
      eval: {
        term: "eval [options]",
        description:
          "run every case of a suite (or a BEIR dataset) as a real run and score it from the judgments",
      },
    },
    load: async () => (await import("./commands/eval.js")).registerEval,
    longLived: true,
  },
  {
    names: ["gc"],
    listed: {
      gc: {
        term: "gc [options]",
        description: "remove store objects that no run, ref or item references (--dry-run: only count them)",
      },
    },
    load: async () => (await import("./commands/gc.js")).registerGc,
  },
  {
    names: ["serve"],
    listed: {
      serve: {
        term: "serve [options]",
        description: "serve runs over HTTP: create, list, read, verify and replay runs; saved specs (items)",
      },
    },
    load: async () => (await import("./commands/serve.js")).registerServe,
    longLived: true,
  },
  {
    names: ["worker"],
    listed: {
      worker: {
        term: "worker [options]",
        description:
          "take run and eval-case jobs from a Redis queue and publish their runs to the shared registry",
      },
    },
    load: async () => (await import("./commands/worker.js")).registerWorker,
    longLived: true,
  },
];

/**
 * The command an argument list invokes (`help X` asks for X's help), or undefined for the
 * program's own help, version, or an unknown command.
 */
export function invokedCommand(args: readonly string[]): CommandEntry | undefined {
  const first = args[0] === "help" ? args[1] : args[0];
  return first === undefined ? undefined : COMMANDS.find((c) => c.names.includes(first));
}
