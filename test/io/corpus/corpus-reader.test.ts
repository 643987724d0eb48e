import { execFileSync } from "node:child_process";
import { chmodSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/core/errors.js";
import { DEFAULT_LIMITS, readCorpus } from "../../../src/io/corpus/corpus-reader.js";
import { tempDir, writeFiles } from "../../helpers/tmp.js";

async function failure(path: string, limits = DEFAULT_LIMITS): Promise<InputError> {
  try {
    await readCorpus(path, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    return error as InputError;
  }
  throw new Error("expected readCorpus to fail");
}

describe("readCorpus: JSONL", () => {
  it("reads doc_id or BEIR _id, text, title and source, skipping blank lines", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "c.jsonl":
        '{"doc_id":"a","text":"Alpha text.","title":"A","source":"s"}\n\n{"_id":"b","text":"Béta text.","metadata":{}}\n',
    });
    const { documents, textBytes } = await readCorpus(join(dir, "c.jsonl"));
    expect(documents).toEqual([
      { doc_id: "a", text: "Alpha text.", title: "A", source: "s" },
      { doc_id: "b", text: "Béta text." },
    ]);
    expect(textBytes).toBe(11 + 11);
  });

  it("reads gzipped JSONL", async () => {
    const dir = tempDir();
    writeFiles(dir, { "c.jsonl.gz": gzipSync('{"doc_id":"a","text":"zipped"}\n') });
    expect((await readCorpus(join(dir, "c.jsonl.gz"))).documents).toHaveLength(1);
  });

  it.each([
    [
      "malformed JSON",
      '{"doc_id":"a","text":"ok"}\n{"doc_id": "b", "text": }\n',
      2,
      undefined,
      /not valid JSON/,
    ],
    ["a non-object line", '["a","b"]\n', 1, undefined, /expected a JSON object/],
    ["a missing text", '{"doc_id":"a"}\n', 1, "text", /missing/],
    ["a non-string text", '{"doc_id":"a","text":42}\n', 1, "text", /must be a string/],
    ["a missing id", '{"text":"x"}\n', 1, "doc_id", /missing document id/],
    ["an empty id", '{"doc_id":"","text":"x"}\n', 1, "doc_id", /non-empty string/],
    ["a non-string title", '{"doc_id":"a","text":"x","title":7}\n', 1, "title", /must be a string/],
    [
      "a duplicate doc_id",
      '{"doc_id":"a","text":"x"}\n{"doc_id":"a","text":"y"}\n',
      2,
      "doc_id",
      /duplicate doc_id "a" \(first on line 1\)/,
    ],
  ])("reports %s with file, line and field", async (_name, content, line, field, message) => {
    const dir = tempDir();
    const file = join(dir, "bad.jsonl");
    writeFiles(dir, { "bad.jsonl": content });
    const error = await failure(file);
    expect(error.where.file).toBe(file);
    expect(error.where.line).toBe(line);
    expect(error.where.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.describe()).toContain(`${file}:${line}`);
  });

  it("reports every bad line at once, not only the first", async () => {
    const dir = tempDir();
    writeFiles(dir, { "bad.jsonl": '{"doc_id":"a"}\n{"doc_id":"b","text":"fine"}\n{oops\n' });
    const error = await failure(join(dir, "bad.jsonl"));
    expect(error.message).toMatch(/2 bad line\(s\)/);
    expect(error.message).toMatch(/bad\.jsonl:1: field "text"/);
    expect(error.message).toMatch(/bad\.jsonl:3: not valid JSON/);
  });

  it("rejects an empty corpus", async () => {
    const dir = tempDir();
    writeFiles(dir, { "empty.jsonl": "\n\n" });
    expect((await failure(join(dir, "empty.jsonl"))).code).toBe("E_CORPUS_EMPTY");
  });

  it("rejects a missing or unreadable path", async () => {
    const dir = tempDir();
    expect((await failure(join(dir, "nope.jsonl"))).code).toBe("E_CORPUS_READ");
    writeFiles(dir, { "locked.jsonl": '{"doc_id":"a","text":"x"}\n' });
    chmodSync(join(dir, "locked.jsonl"), 0);
    // root reads anything; only assert when the permission actually bites.
    if (process.getuid?.() !== 0)
      expect((await failure(join(dir, "locked.jsonl"))).code).toBe("E_CORPUS_READ");
  });

  it("enforces document and byte limits", async () => {
    const dir = tempDir();
    writeFiles(dir, { "c.jsonl": '{"doc_id":"a","text":"12345"}\n{"doc_id":"b","text":"67890"}\n' });
    const file = join(dir, "c.jsonl");
    expect((await failure(file, { ...DEFAULT_LIMITS, max_documents: 1 })).message).toMatch(
      /more than 1 documents/,
    );
    const bytes = await failure(file, { ...DEFAULT_LIMITS, max_bytes: 7 });
    expect(bytes.code).toBe("E_CORPUS_LIMIT");
    expect(bytes.where.line).toBe(2);
  });
});

describe("readCorpus: folder", () => {
  it("reads .txt and .md files sorted by relative path; the doc id is the path", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "b.md": "# B\nbee",
      "a/z.txt": "zed",
      "a/é.md": "accent",
      "skip.pdf": "x",
      ".hidden/x.md": "no",
    });
    const { documents, format } = await readCorpus(dir);
    expect(format).toBe("folder");
    expect(documents.map((d) => d.doc_id)).toEqual(["a/z.txt", "a/é.md", "b.md"]);
  });

  it("rejects a file that is not UTF-8, naming it", async () => {
    const dir = tempDir();
    writeFiles(dir, { "bad.txt": Buffer.from([0x66, 0xff, 0xfe]) });
    const error = await failure(dir);
    expect(error.where.file).toBe(join(dir, "bad.txt"));
    expect(error.message).toMatch(/UTF-8/);
  });

  it("rejects a folder without documents", async () => {
    const dir = tempDir();
    writeFiles(dir, { "notes.pdf": "x" });
    expect((await failure(dir)).code).toBe("E_CORPUS_EMPTY");
  });
});

describe("readCorpus: hostile folders and paths", () => {
  it("never follows a symlink in a folder corpus, to a document or a folder outside it", async () => {
    const outside = tempDir();
    writeFiles(outside, { "secret.md": "# Secret\nnot for the corpus", "dir/inner.md": "inner" });
    const dir = tempDir();
    writeFiles(dir, { "a.md": "# A\nay" });
    symlinkSync(join(outside, "secret.md"), join(dir, "secret.md"));
    symlinkSync(join(outside, "dir"), join(dir, "linked"));
    symlinkSync("../../../../../../etc/passwd", join(dir, "passwd.txt"));
    const { documents } = await readCorpus(dir);
    expect(documents.map((d) => d.doc_id)).toEqual(["a.md"]);
  });

  it("a FIFO named like a document is refused without being opened; a FIFO or a device as the corpus too", async () => {
    const dir = tempDir();
    writeFiles(dir, { "a.md": "# A\nay" });
    execFileSync("mkfifo", [join(dir, "pipe.md")]);
    const inFolder = await failure(dir);
    expect(inFolder.code).toBe("E_CORPUS_READ");
    expect(inFolder.message).toMatch(/a FIFO \(named pipe\) in a corpus folder/);
    expect(inFolder.where.file).toBe(join(dir, "pipe.md"));
    const fifo = join(tempDir(), "corpus.jsonl");
    execFileSync("mkfifo", [fifo]);
    expect((await failure(fifo)).message).toMatch(/cannot read corpus: a FIFO/);
    expect((await failure("/dev/zero")).message).toMatch(/cannot read corpus: a device/);
  });

  it("a file name that is not UTF-8 is E_ENCODING (doc ids are UTF-8 paths)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "a.md": "# A\nay" });
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff]), Buffer.from(".md")]), "x");
    expect((await failure(dir)).code).toBe("E_ENCODING");
  });

  it("invalid UTF-8 inside a JSONL line names the line", async () => {
    const dir = tempDir();
    const bytes = Buffer.concat([
      Buffer.from('{"doc_id":"a","text":"fine"}\n{"doc_id":"b","text":"'),
      Buffer.from([0xe2, 0x28, 0xa1]),
      Buffer.from('"}\n'),
    ]);
    writeFiles(dir, { "c.jsonl": bytes });
    const error = await failure(join(dir, "c.jsonl"));
    expect(error.where.line).toBe(2);
    expect(error.message).toMatch(/UTF-8/);
  });
});
