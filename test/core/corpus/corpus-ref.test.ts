import { describe, expect, it } from "vitest";
import { corpusRefString, parseCorpusRef, snapshotRef } from "../../../src/core/corpus/corpus-ref.js";

const HASH = "ab".repeat(32);

describe("corpus references", () => {
  it("parse a pinned snapshot and a path, and print back the string a spec records", () => {
    expect(parseCorpusRef(`sha256:${HASH}`)).toEqual({ kind: "snapshot", hash: HASH });
    expect(parseCorpusRef("demo/corpus")).toEqual({ kind: "path", path: "demo/corpus" });
    for (const value of [`sha256:${HASH}`, "demo/corpus", "/abs/x.jsonl"])
      expect(corpusRefString(parseCorpusRef(value))).toBe(value);
    expect(corpusRefString(snapshotRef(HASH))).toBe(`sha256:${HASH}`);
  });

  it("treat anything that is not exactly sha256:<64 lowercase hex> as a path", () => {
    for (const value of [
      `sha256:${HASH.toUpperCase()}`,
      `sha256:${HASH}0`,
      `SHA256:${HASH}`,
      "sha256:",
      `x sha256:${HASH}`,
    ])
      expect(parseCorpusRef(value).kind, value).toBe("path");
  });
});
