/**
 * Bad input a user can cause is exit 2 with one line naming the file or field (docs/design.md §8-§9):
 * never exit 3, a stack trace or a hang. One test per case of the hostile-input review.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { specFromOptions } from "../../src/cli/commands/run.js";
import { InputError } from "../../src/core/errors.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const DOC = '{"doc_id":"a","text":"Otters hold hands while they sleep so they do not drift apart."}\n';
const BOM = "\ufeff";

/** Exit 2, one line `canon-reason: error[CODE]: ...` containing every needle, no stack trace. */
function expectInputError(result: CliResult, code: string, ...needles: string[]): void {
  expect(result.stderr).not.toContain("    at ");
  expect(result.stderr.endsWith("\n")).toBe(true);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^canon-reason: error\\[${code}\\]: `));
  for (const needle of needles) expect(result.stderr).toContain(needle);
  expect(result.status).toBe(2);
}

/** A folder with ok.jsonl and the given files; returns it and an artifacts dir. */
function setup(files: Record<string, string | Uint8Array> = {}): { dir: string; arts: string } {
  const dir = tempDir();
  writeFiles(dir, { "ok.jsonl": DOC, ...files });
  return { dir, arts: join(dir, "arts") };
}

function run(dir: string, args: string[], timeoutMs = 15_000): CliResult {
  return runCli(args, { cwd: dir, timeoutMs });
}

describe("lone surrogates (no UTF-8 form) are refused", () => {
  it("in a JSONL corpus text and doc id, naming file, line and field", () => {
    const { dir, arts } = setup({
      "text.jsonl": `${DOC}{"doc_id":"b","text":"x \\ud800 y"}\n`,
      "id.jsonl": '{"doc_id":"a\\udc00","text":"Otters."}\n',
    });
    expectInputError(
      run(dir, ["run", "Why?", "--corpus", "text.jsonl", "--artifacts-dir", arts]),
      "E_ENCODING",
      "text.jsonl:2",
      'field "text"',
      "lone surrogate",
    );
    expectInputError(
      run(dir, ["index", "id.jsonl", "--artifacts-dir", arts]),
      "E_ENCODING",
      "id.jsonl:1",
      'field "doc_id"',
    );
  });

  it("in a spec file and a suite, naming the file and field", () => {
    const { dir, arts } = setup({
      "spec.json": '{"version":"1","description":"Why \\ud800?","constraints":{"corpus":"ok.jsonl"}}',
      "suite/suite.json": '{"name":"s","version":"1","corpus":"../ok.jsonl"}',
      "suite/problems.jsonl":
        '{"case_id":"c1","description":"Why otters?"}\n{"case_id":"c2","description":"\\ud801"}\n',
    });
    expectInputError(
      run(dir, ["run", "--spec", "spec.json", "--artifacts-dir", arts]),
      "E_ENCODING",
      "spec.json",
      'field "description"',
    );
    expectInputError(
      run(dir, ["eval", "--suite", "suite", "--artifacts-dir", arts]),
      "E_ENCODING",
      "problems.jsonl:2",
      'field "description"',
    );
  });

  it("in the question on the command line", () => {
    // A process argument cannot carry a lone surrogate (it arrives as U+FFFD), so the check
    // that guards the command line is exercised where the question enters.
    const options = { seed: 0, preset: "default", maxCorpusBytes: 1, maxDocuments: 1, maxChunks: 1 };
    const error = (() => {
      try {
        specFromOptions("Why \ud800?", { ...options, corpus: "x.jsonl" });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe("E_ENCODING");
    expect((error as InputError).where).toEqual({ file: "<command line>", field: "question" });
    const { dir, arts } = setup();
    expect(run(dir, ["run", "Why \ud800?", "--corpus", "ok.jsonl", "--artifacts-dir", arts]).status).not.toBe(
      3,
    );
  });
});

describe("--corpus sha256:HASH must name a corpus snapshot", () => {
  it("refuses the hash of an index object in the store", () => {
    const { dir, arts } = setup();
    const indexed = run(dir, ["index", "ok.jsonl", "--artifacts-dir", arts, "--json"]);
    expect(indexed.status).toBe(0);
    const indexHash = JSON.parse(indexed.stdout).index_hash as string;
    expectInputError(
      run(dir, ["run", "Why?", "--corpus", indexHash, "--artifacts-dir", arts]),
      "E_NOT_A_SNAPSHOT",
      "not a corpus snapshot",
      'field "constraints.corpus"',
    );
  });
});

describe("file-system errors at the artifacts dir and output paths", () => {
  it("refuses an artifacts dir that is a file, or whose runs/ or store/sha256 is a file", () => {
    const { dir } = setup({ afile: "x", "a2/runs": "x", "a3/store/sha256": "x" });
    for (const [arts, named] of [
      ["afile", "afile"],
      ["a2", join("a2", "runs")],
      ["a3", join("a3", "store", "sha256")],
      [join("afile", "sub"), "afile"],
    ] as const) {
      expectInputError(
        run(dir, ["run", "Why?", "--corpus", "ok.jsonl", "--artifacts-dir", arts]),
        "E_ARTIFACTS_DIR",
        named,
        'field "--artifacts-dir"',
      );
    }
    expectInputError(
      run(dir, ["index", "ok.jsonl", "--artifacts-dir", "afile"]),
      "E_ARTIFACTS_DIR",
      "afile",
      "(EEXIST)",
    );
  });

  it.skipIf(process.getuid?.() === 0)("refuses a read-only artifacts dir", () => {
    const { dir, arts } = setup();
    mkdirSync(arts);
    chmodSync(arts, 0o555);
    try {
      expectInputError(
        run(dir, ["run", "Why?", "--corpus", "ok.jsonl", "--artifacts-dir", arts]),
        "E_ARTIFACTS_DIR",
        "permission denied (EACCES)",
      );
    } finally {
      chmodSync(arts, 0o755);
    }
  });

  it("refuses keygen --out, init --target and eval --out that are files", () => {
    const { dir, arts } = setup({
      afile: "x",
      "suite/suite.json": '{"name":"s","version":"1","corpus":"../ok.jsonl"}',
      "suite/problems.jsonl": '{"case_id":"c1","description":"Why otters?"}\n',
    });
    expectInputError(run(dir, ["keygen", "--out", "afile"]), "E_OUTPUT", "afile", 'field "--out"');
    expectInputError(run(dir, ["init", "--target", "afile"]), "E_OUTPUT", "afile", 'field "--target"');
    expectInputError(
      run(dir, ["eval", "--suite", "suite", "--artifacts-dir", arts, "--out", "afile"]),
      "E_OUTPUT",
      "afile",
      'field "--out"',
    );
  });
});

describe("--corpus accepts regular files and folders only", () => {
  it("refuses a FIFO without opening it (no hang) and a device", () => {
    const { dir, arts } = setup({ "folder/a.txt": "Otters sleep." });
    execFileSync("mkfifo", [join(dir, "pipe.jsonl"), join(dir, "folder", "b.txt")]);
    expectInputError(
      run(dir, ["run", "Why?", "--corpus", "pipe.jsonl", "--artifacts-dir", arts], 10_000),
      "E_CORPUS_READ",
      "pipe.jsonl",
      "FIFO",
    );
    expectInputError(
      run(dir, ["index", "folder", "--artifacts-dir", arts], 10_000),
      "E_CORPUS_READ",
      join("folder", "b.txt"),
      "FIFO",
    );
    expectInputError(
      run(dir, ["run", "Why?", "--corpus", "/dev/zero", "--artifacts-dir", arts], 10_000),
      "E_CORPUS_READ",
      "/dev/zero",
      "device",
    );
  });
});

describe("--seed is an integer in [0, 2^53 - 1]", () => {
  it("refuses seeds that are too large, negative, fractional or not numbers", () => {
    const { dir, arts } = setup();
    for (const seed of ["9007199254740992", "9007199254740993", "-1", "1.5", "abc", "1e3"]) {
      expectInputError(
        run(dir, ["run", "Why?", "--corpus", "ok.jsonl", "--seed", seed, "--artifacts-dir", arts]),
        "E_USAGE",
        'field "--seed"',
        `"${seed}"`,
      );
    }
    const max = run(dir, [
      "run",
      "Why?",
      "--corpus",
      "ok.jsonl",
      "--seed",
      "9007199254740991",
      "--artifacts-dir",
      arts,
    ]);
    expect(max.status).not.toBe(2);
    expect(max.status).not.toBe(3);
  });
});

describe("names are looked up among own keys only", () => {
  it("refuses prototype names as presets and analyzers", () => {
    const { dir, arts } = setup();
    for (const preset of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expectInputError(
        run(dir, ["run", "Why?", "--corpus", "ok.jsonl", "--preset", preset, "--artifacts-dir", arts]),
        "E_USAGE",
        `unknown preset "${preset}"; known: default, quick, thorough`,
        'field "--preset"',
      );
    }
    expectInputError(
      run(dir, ["run", "Why?", "--corpus", "ok.jsonl", "--analyzer", "__proto__", "--artifacts-dir", arts]),
      "E_SPEC_INVALID",
      'field "constraints.analyzer"',
    );
    expectInputError(
      run(dir, ["index", "ok.jsonl", "--analyzer", "constructor", "--artifacts-dir", arts]),
      "E_USAGE",
      'field "--analyzer"',
    );
  });
});

describe("one encoding rule: UTF-8, a leading BOM stripped, invalid bytes refused", () => {
  const bad = Buffer.concat([
    Buffer.from(DOC),
    Buffer.from('{"doc_id":"b","text":"caf'),
    Buffer.from([0xe9, 0x22, 0x7d, 0x0a]),
  ]);

  it("refuses invalid UTF-8 with file, line and byte offset in JSONL, .jsonl.gz and folders", () => {
    const { dir, arts } = setup({
      "bad.jsonl": bad,
      "bad.jsonl.gz": gzipSync(bad),
      "folder/a.txt": Buffer.concat([Buffer.from("line one\nline "), Buffer.from([0xff])]),
    });
    const offset = `byte offset ${DOC.length + 25}`;
    expectInputError(
      run(dir, ["index", "bad.jsonl", "--artifacts-dir", arts]),
      "E_ENCODING",
      "bad.jsonl:2",
      offset,
    );
    expectInputError(
      run(dir, ["index", "bad.jsonl.gz", "--artifacts-dir", arts]),
      "E_ENCODING",
      "bad.jsonl.gz:2",
      offset,
    );
    expectInputError(
      run(dir, ["index", "folder", "--artifacts-dir", arts]),
      "E_ENCODING",
      `${join("folder", "a.txt")}:2`,
      "byte offset 14",
    );
  });

  it("refuses a folder file name that is not UTF-8 and a .gz that is not gzip", () => {
    const { dir, arts } = setup({ "fake.jsonl.gz": "not gzip", "names/a.txt": "Otters." });
    writeFileSync(Buffer.from(`${join(dir, "names")}/\xfe.txt`, "latin1"), "Otters sleep.");
    expectInputError(
      run(dir, ["index", "names", "--artifacts-dir", arts]),
      "E_ENCODING",
      "file name is not valid UTF-8",
    );
    expectInputError(
      run(dir, ["index", "fake.jsonl.gz", "--artifacts-dir", arts]),
      "E_CORPUS_READ",
      "fake.jsonl.gz: cannot read corpus: not a valid gzip file",
    );
  });

  it("refuses invalid UTF-8 in spec, suite and BEIR query files", () => {
    const { dir, arts } = setup({
      "spec.json": Buffer.concat([
        Buffer.from('{"version":"1","description":"Caf'),
        Buffer.from([0xe9]),
        Buffer.from('?"}'),
      ]),
      "suite/suite.json": Buffer.concat([
        Buffer.from('{"name":"s\n'),
        Buffer.from([0xc0, 0x80]),
        Buffer.from('"}'),
      ]),
      "beir/corpus.jsonl": DOC,
      "beir/queries.jsonl": Buffer.concat([
        Buffer.from('{"_id":"q1","text":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}\n'),
      ]),
      "beir/qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\ta\t1\n",
    });
    expectInputError(
      run(dir, ["run", "--spec", "spec.json", "--artifacts-dir", arts]),
      "E_ENCODING",
      "spec.json:1",
      "byte offset 33",
    );
    expectInputError(
      run(dir, ["eval", "--suite", "suite", "--artifacts-dir", arts]),
      "E_ENCODING",
      "suite.json:2",
      "byte offset 11",
    );
    expectInputError(
      run(dir, ["eval", "--beir", "beir", "--artifacts-dir", arts]),
      "E_ENCODING",
      "queries.jsonl:1",
      "byte offset 20",
    );
  });

  it("strips a leading BOM everywhere: the same snapshot with or without it", () => {
    const { dir, arts } = setup({
      "bom.jsonl": `${BOM}${DOC}`,
      "bom.jsonl.gz": gzipSync(Buffer.from(`${BOM}${DOC}`)),
      "plain/a.txt": "Otters sleep.",
      "bommed/a.txt": `${BOM}Otters sleep.`,
      "spec.json": `${BOM}{"version":"1","description":"Why do otters hold hands?","constraints":{"corpus":"ok.jsonl"}}`,
      "suite/suite.json": `${BOM}{"name":"s","version":"1","corpus":"../ok.jsonl"}`,
      "suite/problems.jsonl": `${BOM}{"case_id":"c1","description":"Why otters?"}\n`,
      "beir/corpus.jsonl": `${BOM}${DOC}`,
      "beir/queries.jsonl": `${BOM}{"_id":"q1","text":"otters"}\n`,
      "beir/qrels/test.tsv": `${BOM}query-id\tcorpus-id\tscore\nq1\ta\t1\n`,
    });
    const snapshot = (path: string) => {
      const r = run(dir, ["index", path, "--artifacts-dir", arts, "--json"]);
      expect(r.stderr).toBe("");
      return JSON.parse(r.stdout).corpus_snapshot as string;
    };
    expect(snapshot("bom.jsonl")).toBe(snapshot("ok.jsonl"));
    expect(snapshot("bom.jsonl.gz")).toBe(snapshot("ok.jsonl"));
    expect(snapshot("bommed")).toBe(snapshot("plain"));
    expect(run(dir, ["run", "--spec", "spec.json", "--artifacts-dir", arts]).status).toBe(0);
    expect(run(dir, ["eval", "--suite", "suite", "--artifacts-dir", arts]).status).toBe(0);
    expect(run(dir, ["eval", "--beir", "beir", "--artifacts-dir", arts]).status).toBe(0);
  });
});

describe("spec constraints", () => {
  it('says constraints must be an object for "constraints": null', () => {
    const { dir, arts } = setup({
      "null.json": '{"version":"1","description":"Why?","constraints":null}',
      "list.json": '{"version":"1","description":"Why?","constraints":["ok.jsonl"]}',
    });
    for (const file of ["null.json", "list.json"]) {
      expectInputError(
        run(dir, ["run", "--spec", file, "--artifacts-dir", arts]),
        "E_SPEC_INVALID",
        file,
        'field "constraints"',
        "must be an object",
      );
    }
  });

  it("names the spec file when overlap_chars >= chunk_chars", () => {
    const { dir, arts } = setup({
      "spec.json":
        '{"version":"1","description":"Why?","constraints":{"corpus":"ok.jsonl","chunk_chars":100,"overlap_chars":100}}',
    });
    expectInputError(
      run(dir, ["run", "--spec", "spec.json", "--artifacts-dir", arts]),
      "E_SPEC_INVALID",
      "spec.json: ",
      'field "constraints.overlap_chars"',
    );
  });
});

describe("--max-chunks", () => {
  it("is enforced for a cached index as for a fresh build", () => {
    const { dir, arts } = setup();
    expect(run(dir, ["index", "ok.jsonl", "--artifacts-dir", arts]).status).toBe(0);
    expectInputError(
      run(dir, ["index", "ok.jsonl", "--max-chunks", "0", "--artifacts-dir", arts]),
      "E_CORPUS_LIMIT",
      "ok.jsonl",
      "--max-chunks",
    );
    expectInputError(
      run(dir, ["run", "Why?", "--corpus", "ok.jsonl", "--max-chunks", "0", "--artifacts-dir", arts]),
      "E_CORPUS_LIMIT",
      "--max-chunks",
    );
  });
});

describe("eval's parameter flags are held to the spec's constraint schema", () => {
  it.each([
    [["--min-confidence", "-1"], "constraints.min_confidence"],
    [["--k1", "-3"], "constraints.bm25_k1"],
    [["--top-k", "0"], "constraints.top_k"],
  ])("eval %j exits 2 naming the field, before any case runs", (flags, field) => {
    const { dir, arts } = setup({
      "suite/suite.json": '{"name":"s","version":"1","corpus":"../ok.jsonl"}',
      "suite/problems.jsonl": '{"case_id":"c1","description":"Do otters hold hands?"}\n',
    });
    const r = run(dir, ["eval", "--suite", "suite", "--artifacts-dir", arts, ...flags]);
    expectInputError(r, "E_USAGE", "<command line>", field);
  });
});

describe("serve: a host that cannot be bound is bad input", () => {
  it("exits 2 naming --host", () => {
    const r = run(tempDir(), ["serve", "--host", "999.1.1.1", "--port", "0"]);
    expectInputError(r, "E_USAGE", "--host");
  });
});
