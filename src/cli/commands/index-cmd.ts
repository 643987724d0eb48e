/** `canon-reason index`: snapshot a corpus and build its BM25 index into the store, once. */

import type { Command } from "commander";
import { buildIndex, DEFAULT_INDEX_PARAMS } from "../../app/store/corpus.js";
import { InputError } from "../../core/errors.js";
import { ANALYZERS } from "../../core/models/spec.js";
import { terminalProgress } from "../progress.js";
import {
  action,
  artifactsRoot,
  parseIntOption,
  parseNumberOption,
  printJson,
  withCorpusLimits,
} from "../shared.js";

interface IndexOptions {
  analyzer: string;
  k1: number;
  b: number;
  chunkChars: number;
  overlapChars: number;
  indexTitles: boolean;
  artifactsDir?: string;
  maxCorpusBytes: number;
  maxDocuments: number;
  maxChunks: number;
  workers: number;
  json?: boolean;
}

export function registerIndex(program: Command): void {
  const d = DEFAULT_INDEX_PARAMS;
  withCorpusLimits(
    program
      .command("index")
      .description(
        "snapshot a corpus and build (or reuse) its BM25 index; prints the corpus and index hashes",
      )
      .argument("<path>", "a .jsonl(.gz) file or a folder of .txt/.md files")
      .option("--analyzer <name>", `tokenizer: ${ANALYZERS.join(" or ")}`, d.analyzer)
      .option("--k1 <x>", "BM25 k1", parseNumberOption("--k1"), d.bm25_k1)
      .option("--b <x>", "BM25 b", parseNumberOption("--b"), d.bm25_b)
      .option(
        "--chunk-chars <n>",
        "chunk window in characters",
        parseIntOption("--chunk-chars"),
        d.chunk_chars,
      )
      .option(
        "--overlap-chars <n>",
        "overlap between windows",
        parseIntOption("--overlap-chars"),
        d.overlap_chars,
      )
      .option("--no-index-titles", "do not index document titles with their chunks")
      .option(
        "--workers <n>",
        "threads to build the index with, 1-16 (the index is byte-identical for any count)",
        parseIntOption("--workers", { min: 1, max: 16 }),
        1,
      )
      .option("--artifacts-dir <dir>", "artifacts root", ".canon-reason"),
  )
    .option("--json", "print the result as JSON")
    .action(
      action(async (path: string, o: IndexOptions) => {
        const analyzer = ANALYZERS.find((name) => name === o.analyzer);
        if (analyzer === undefined) {
          throw new InputError(
            "E_USAGE",
            `unknown analyzer "${o.analyzer}" (known: ${ANALYZERS.join(", ")})`,
            { field: "--analyzer" },
          );
        }
        if (o.overlapChars >= o.chunkChars || o.chunkChars < 1 || o.overlapChars < 0) {
          throw new InputError("E_USAGE", "need 0 <= --overlap-chars < --chunk-chars", {
            field: "--overlap-chars",
          });
        }
        const result = await buildIndex({
          artifactsRoot: artifactsRoot(o.artifactsDir),
          path,
          params: {
            analyzer,
            bm25_k1: o.k1,
            bm25_b: o.b,
            chunk_chars: o.chunkChars,
            overlap_chars: o.overlapChars,
            index_titles: o.indexTitles,
          },
          limits: { max_bytes: o.maxCorpusBytes, max_documents: o.maxDocuments, max_chunks: o.maxChunks },
          progress: await terminalProgress(!o.json),
          threads: o.workers,
        });
        if (o.json) printJson(result);
        else {
          process.stdout.write(
            [
              `corpus snapshot  ${result.corpus_snapshot}`,
              `index            ${result.index_hash}${result.cached ? " (cached)" : " (built)"}`,
              `documents        ${result.documents}`,
              `chunks           ${result.chunks}`,
              `terms            ${result.terms}`,
              `postings         ${result.postings}`,
              "",
            ].join("\n"),
          );
        }
        return 0;
      }),
    );
}
