/**
 * The command line's edges (issue 21, items 18, 19, 20, 23): a folder corpus that skips files
 * says which, a closed pipe ends any command quietly, `serve` and `worker` stop with the npx
 * that launched them while the installed bin stops on SIGTERM, and `run` says how many
 * documents the corpus had.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/command-table.js";
import { watchesParent } from "../../src/cli/parent-watch.js";
import { describeSkipped } from "../../src/io/corpus/corpus-reader.js";
import { CLI, DEMO_CORPUS, isCleanError, REPO, runCli } from "../helpers/cli.js";
import { demoRun } from "../helpers/demo-run.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";

describe("issue 21 item 18: a folder corpus names what it skips", () => {
  it("item 18: .jsonl, .pdf and other files are named (count and first few) on stderr; the run goes on", () => {
    const corpus = tempDir();
    writeFiles(corpus, {
      "README.md": "# Bridge\n\nIn bridge, a trick is won by the highest card of the suit that was led.\n",
      "corpus.jsonl": '{"_id": "1", "text": "x"}\n',
      "queries.jsonl": '{"_id": "q1", "text": "y"}\n',
      "paper.pdf": "%PDF-1.4\n",
      "data/table.csv": "a,b\n",
      ".hidden.pdf": "%PDF-1.4\n",
    });
    for (const attempt of ["first", "cached"]) {
      const result = runCli([
        "run",
        QUESTION,
        "--corpus",
        corpus,
        "--artifacts-dir",
        join(corpus, ".a"),
        "--json",
      ]);
      expect(result.status, `${attempt}: ${result.stderr}`).toBe(0);
      expect(result.stderr, attempt).toContain(
        "skipped 4 file(s) that are not .txt or .md: corpus.jsonl, data/table.csv, paper.pdf, queries.jsonl",
      );
      expect(result.stderr).toContain(
        "PDF is not supported: convert it to .txt or .md, or give a .jsonl(.gz) corpus",
      );
      expect(result.stderr).toContain("a .jsonl(.gz) corpus is read when given as the file itself");
      expect(result.stderr).not.toContain(".hidden.pdf");
      expect(JSON.parse(result.stdout).corpus_documents).toBe(1);
    }
  });

  it("item 18: a folder with no readable document is refused (exit 2), naming what it skipped", () => {
    const only = tempDir();
    writeFiles(only, { "corpus.jsonl": '{"_id": "1", "text": "x"}\n', "paper.pdf": "%PDF-1.4\n" });
    const empty = tempDir();
    const hidden = tempDir();
    writeFiles(hidden, { ".notes.md": "hidden\n" });
    for (const [dir, message] of [
      [
        only,
        /the folder has no \.txt or \.md document: skipped 2 file\(s\) that are not \.txt or \.md: corpus\.jsonl, paper\.pdf; PDF is not supported/,
      ],
      [empty, /the folder has no \.txt or \.md document$/m],
      [hidden, /the folder has no \.txt or \.md document$/m],
    ] as Array<[string, RegExp]>) {
      const result = runCli(["run", QUESTION, "--corpus", dir, "--artifacts-dir", tempDir()]);
      expect(result.status, dir).toBe(2);
      expect(result.stderr, dir).toMatch(message);
      expect(isCleanError(result)).toBe(true);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("item 18: many skipped files are summarised; hostile names are quoted, never raw escapes", () => {
    const names = Array.from({ length: 8 }, (_, i) => `f${i}.pdf`);
    expect(describeSkipped(names)).toMatch(
      /^skipped 8 file\(s\) that are not \.txt or \.md: f0\.pdf, f1\.pdf, f2\.pdf, f3\.pdf, f4\.pdf, and 3 more; PDF/,
    );
    expect(describeSkipped(["a\u001b[31mred.bin", "b,c.bin"])).toBe(
      'skipped 2 file(s) that are not .txt or .md: "a\\u001b[31mred.bin", "b,c.bin"',
    );
    expect(describeSkipped([])).toBe("");
    // A folder of many documents and one stray file still reads, and says so.
    const corpus = tempDir();
    mkdirSync(join(corpus, "sub"));
    writeFileSync(join(corpus, "sub", "a.md"), "Alpha is first.\n");
    writeFileSync(join(corpus, "b.txt"), "Beta is second.\n");
    writeFileSync(join(corpus, "notes.docx"), "x");
    const result = runCli([
      "run",
      "What is first?",
      "--corpus",
      corpus,
      "--artifacts-dir",
      tempDir(),
      "--json",
    ]);
    expect(result.stderr).toContain("skipped 1 file(s) that are not .txt or .md: notes.docx\n");
    expect(JSON.parse(result.stdout).corpus_documents).toBe(2);
  });
});

describe("issue 21 item 19: a closed pipe ends every command quietly", () => {
  /** bash with pipefail: the CLI's own exit status and stderr when its reader exits at once. */
  const piped = (args: string, stream: "stdout" | "stderr" = "stdout") => {
    const redirect = stream === "stdout" ? "" : "2>&1 >/dev/null";
    const script = `set -o pipefail; "${process.execPath}" "${CLI}" ${args} ${redirect} | true`;
    return spawnSync("bash", ["-c", script], { cwd: REPO, encoding: "utf8" });
  };
  const commands = COMMANDS.flatMap((c) => c.names);

  it("item 19: `verify --help | head -1` prints one line and exits 0", () => {
    const result = spawnSync(
      "bash",
      ["-c", `set -o pipefail; "${process.execPath}" "${CLI}" verify --help | head -1`],
      {
        cwd: REPO,
        encoding: "utf8",
      },
    );
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  for (const args of ["--help", "--version", ...commands.map((c) => `${c} --help`)])
    it(`item 19: \`${args} | true\`: no EPIPE, no stack trace`, () => {
      const result = piped(args);
      expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(result.status).toBe(0);
    });

  it("item 19: a command's output path and its error path (stderr) into a closed pipe", () => {
    const { runDir } = demoRun({ question: QUESTION });
    for (const args of [`verify "${runDir}" --json`, `inspect "${runDir}"`, `report "${runDir}"`]) {
      const result = piped(args);
      expect(result.stderr, args).not.toMatch(/EPIPE|\n\s+at /);
      expect([0, 1], args).toContain(result.status);
    }
    // The error goes to stderr, whose reader is gone: still no stack, the usual exit status.
    const error = piped("run --corpus /nonexistent/x", "stderr");
    expect(error.stdout).not.toMatch(/EPIPE|\n\s+at /);
    expect(error.status).toBe(2);
  });
});

describe("issue 21 item 23: run says how many documents the corpus had", () => {
  it("item 23: --json carries corpus_documents; the text output says it", () => {
    const { root: artifacts, json } = demoRun({ question: QUESTION });
    const documents = json.corpus_documents;
    expect(documents).toBe(40);
    const text = runCli(["run", QUESTION, "--corpus", DEMO_CORPUS, "--artifacts-dir", artifacts]);
    expect(text.stdout).toContain(`Corpus: ${documents} document(s)`);
  });
});

/** Resolves with the first stdout line matching `pattern` (its first group). */
function lineOf(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const found = pattern.exec(out)?.[1];
      if (found !== undefined) resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code} before printing ${pattern}: ${out}`)));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, withinMs: number): Promise<boolean> {
  for (const until = Date.now() + withinMs; Date.now() < until; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/**
 * A stand-in for npx: a launcher process that starts `serve` (directly, or through `sh -c` as
 * npm does), prints the server's pid, and never forwards a signal.
 */
function launch(env: Record<string, string | undefined>, viaShell: boolean) {
  const serve = `"${process.execPath}" "${CLI}" serve --port 0 --artifacts-dir "${tempDir()}"`;
  const launcher = `
    const { spawn } = require("node:child_process");
    const child = ${
      viaShell
        ? `spawn("sh", ["-c", ${JSON.stringify(`${serve} & echo "server $!"; wait`)}], { stdio: ["ignore", "inherit", "inherit"] });`
        : `spawn(process.execPath, [${JSON.stringify(CLI)}, "serve", "--port", "0", "--artifacts-dir", ${JSON.stringify(tempDir())}], { stdio: ["ignore", "inherit", "inherit"] }); console.log("server " + child.pid);`
    }
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", launcher], {
    cwd: REPO,
    env: { ...process.env, npm_command: undefined, CANON_REASON_EXIT_WITH_PARENT: undefined, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return child;
}

describe("issue 21 item 20: supervised launch", () => {
  it("item 20: SIGTERM to the installed bin (node_modules/.bin/canon-reason) stops serve, exit 0", async () => {
    const child = spawn(
      join(REPO, "node_modules/.bin/canon-reason"),
      ["serve", "--port", "0", "--artifacts-dir", tempDir()],
      {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    await lineOf(child, /"url":"(http:[^"]+)"/);
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
  });

  for (const viaShell of [false, true])
    it(`item 20: started by npm (npm_command set${viaShell ? ", through sh -c" : ""}), serve stops when its launcher is killed`, async () => {
      const launcher = launch({ npm_command: "exec" }, viaShell);
      const pid = Number(await lineOf(launcher, /server (\d+)/));
      await new Promise((r) => setTimeout(r, 1500));
      expect(alive(pid)).toBe(true);
      launcher.kill("SIGKILL");
      const stopped = await gone(pid, 10_000);
      if (!stopped) process.kill(pid, "SIGKILL");
      expect(stopped).toBe(true);
    });

  it("item 20: not started by npm, a server outlives its launcher (a supervisor's or nohup's choice); CANON_REASON_EXIT_WITH_PARENT decides", async () => {
    const launcher = launch({}, false);
    const pid = Number(await lineOf(launcher, /server (\d+)/));
    await new Promise((r) => setTimeout(r, 500));
    launcher.kill("SIGKILL");
    const stopped = await gone(pid, 3_000);
    if (!stopped) process.kill(pid, "SIGTERM");
    expect(stopped).toBe(false);
    expect(watchesParent({ CANON_REASON_EXIT_WITH_PARENT: "1" })).toBe(true);
    expect(watchesParent({ npm_command: "exec", CANON_REASON_EXIT_WITH_PARENT: "0" })).toBe(false);
    expect(watchesParent({ npm_command: "exec" })).toBe(true);
    expect(watchesParent({})).toBe(false);
  });
});
