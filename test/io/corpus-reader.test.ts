import { chmodSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { DEFAULT_LIMITS, readCorpus } from "../../src/io/corpus/corpus-reader.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

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
