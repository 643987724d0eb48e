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
});
