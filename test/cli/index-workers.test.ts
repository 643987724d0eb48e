/**
 * `canon-reason index --workers N` splits the build across worker threads of the built CLI (its
 * worker entry included): the index must be byte-identical, the same hash, for any count.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCleanError, REPO, runCli } from "../helpers/cli.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

const SCIFACT = join(REPO, "..", "shared", "datasets", "scifact", "corpus.jsonl");

/** A corpus whose documents differ in size, script and title, so shards differ in terms. */
function corpusLines(): string {
  const lines: string[] = [];
  for (let d = 0; d < 300; d++) {
    const words = Array.from({ length: 20 + ((d * 37) % 200) }, (_, i) => `w${(i * d) % 997} tide${d % 13}`);
    const text = d % 7 === 0 ? `Café naïve ½ ${words.join(" ")} Ærø` : words.join(" ");
    lines.push(
      JSON.stringify(
        d % 3 === 0 ? { doc_id: `d${d}`, text } : { doc_id: `d${d}`, title: `T${d % 11}`, text },
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

function indexHash(corpus: string, workers: string[]): string {
  const result = runCli(["index", corpus, "--artifacts-dir", tempDir(), "--json", ...workers]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const out = JSON.parse(result.stdout) as { index_hash: string; cached: boolean };
  expect(out.cached).toBe(false);
  return out.index_hash;
}

describe("index --workers", () => {
  it("builds the same index bytes with 1, 2 and 3 threads", () => {
    const dir = tempDir();
    writeFiles(dir, { "c.jsonl": corpusLines() });
    const corpus = join(dir, "c.jsonl");
    const single = indexHash(corpus, []);
    expect(indexHash(corpus, ["--workers", "2"])).toBe(single);
    expect(indexHash(corpus, ["--workers", "3"])).toBe(single);
  });

  it.runIf(existsSync(SCIFACT))(
    "builds SciFact's index with 2 threads, byte for byte the single-thread one",
    () => {
      expect(indexHash(SCIFACT, ["--workers", "2"])).toBe(indexHash(SCIFACT, ["--workers", "1"]));
    },
  );

  it("refuses a count that is not an integer from 1 to 16, in one line", () => {
    const dir = tempDir();
    writeFiles(dir, { "c.jsonl": '{"doc_id":"a","text":"tides"}\n' });
    for (const bad of ["0", "17", "-1", "1.5", "two", "", "1e1", "99999999999999999999"]) {
      const result = runCli(["index", join(dir, "c.jsonl"), "--artifacts-dir", tempDir(), "--workers", bad]);
      expect(result.status).toBe(2);
      expect(isCleanError(result)).toBe(true);
      expect(result.stderr).toMatch(/--workers must be an integer in \[1, 16\]/);
    }
  });
});
