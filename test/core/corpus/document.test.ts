import { describe, expect, it } from "vitest";
import {
  type CorpusDocument,
  findDocuments,
  readSnapshot,
  snapshotLine,
} from "../../../src/core/corpus/document.js";

const DOCS: CorpusDocument[] = [
  { doc_id: "a", text: 'mentions {"doc_id":"b", inside its text', title: "A" },
  { doc_id: "b", text: "second" },
  { doc_id: "b2", text: "prefix twin" },
  { doc_id: 'quo"te\\back', text: "escaped id" },
  { doc_id: "Zürich/茶道.md", text: "unicode id", source: "s" },
];
const snapshot = Buffer.from(DOCS.map(snapshotLine).join(""), "utf8");

describe("snapshot", () => {
  it("is one canonical JSON line per document, keys sorted", () => {
    expect(snapshotLine({ text: "t", doc_id: "d", title: "T" } as CorpusDocument)).toBe(
      '{"doc_id":"d","text":"t","title":"T"}\n',
    );
    expect([...readSnapshot(snapshot)]).toEqual(DOCS);
  });

  it("finds documents by id: escaped, unicode, prefix-sharing, and not fooled by ids inside text", () => {
    const found = findDocuments(snapshot, ["b", 'quo"te\\back', "Zürich/茶道.md", "missing", "b"]);
    expect([...found.keys()].sort()).toEqual(["b", 'quo"te\\back', "Zürich/茶道.md"].sort());
    expect(found.get("b")).toEqual(DOCS[1]);
    expect(found.get("Zürich/茶道.md")?.source).toBe("s");
    expect(findDocuments(snapshot, ["b2"]).get("b2")?.text).toBe("prefix twin");
  });

  it("finds what a search for the canonical prefix at a line start finds: the first such line, nothing else", () => {
    const lines = [
      '{"doc_id":"\\u0062","text":"b, but not in canonical form"}',
      '{"doc_id":"b","text":"first b"}',
      '{"doc_id":"b","text":"second b"}',
      '{"doc_id":"nocomma"}',
      '{"doc_id":"bad\\',
      ' {"doc_id":"indented","text":"not at a line start"}',
      '{"doc_id":"last","text":"no newline after it"}',
    ];
    const bytes = Buffer.from(lines.join("\n"), "utf8");
    // "\\u0062" is the six characters, whose canonical form escapes the backslash.
    const ids = ["b", "\\u0062", "nocomma", "bad", "indented", "last"];
    const found = findDocuments(bytes, ids);
    expect([...found.keys()].sort()).toEqual(["b", "last"]);
    expect(found.get("b")?.text).toBe("first b");
    // Past 16 lookups in one snapshot, a table of line starts answers instead: the same answers.
    const absent = Array.from({ length: 16 }, (_, i) => `absent-${i}`);
    const tabled = Buffer.from(bytes);
    findDocuments(tabled, absent);
    expect(findDocuments(tabled, ids)).toEqual(found);
    const all = DOCS.map((d) => d.doc_id);
    const many = Buffer.from(snapshot);
    findDocuments(many, absent);
    expect(findDocuments(many, all)).toEqual(findDocuments(snapshot, all));
    // Two views of one buffer are two snapshots: each is searched on its own.
    const both = Buffer.concat([snapshot, bytes]);
    const tail = both.subarray(snapshot.length);
    expect(findDocuments(both, ["b"]).get("b")).toEqual(DOCS[1]);
    expect(findDocuments(tail, ["b", "a"]).get("b")?.text).toBe("first b");
    expect(findDocuments(tail, ["a"]).size).toBe(0);
  });
});
