/**
 * The first extractive reasoner, kept so runs it made still replay and re-derive: a run names
 * its reasoner by id and version (reasoners.ts). New runs use extractive 3 (extractive.ts).
 *
 * Extractive 1, as it was: extractive and deterministic (docs/design.md §3.4). It splits each piece of
 * evidence into sentences, scores them by how many of the question's content words they
 * contain, and cites the best ones verbatim. A sentence with no content word in common
 * with the question is never cited, so a stop-word match can never become an answer.
 */
import { sha256Hex } from "../canonical.js";
import { contentTerms } from "../retrieval/analyzer.js";
import type { Derivation, Reasoner, ReasonerCitation, ReasonerInput } from "./reasoner.js";

const ID = "extractive";
const VERSION = "1";

/** Sentences with fewer words than this are headings or fragments, not answers. */
const MIN_SENTENCE_WORDS = 4;
/** Citations beyond the required minimum must cover at least this share of the best one's terms. */
const EXTRA_CITATION_RATIO = 0.75;

interface Sentence {
  /** Byte offsets inside the text. */
  start: number;
  end: number;
  text: string;
}

/**
 * Splits text into sentences with UTF-8 byte offsets. A sentence ends at `.`, `!` or `?`
 * (plus closing quotes or brackets) followed by whitespace, or at a line break. Markdown
 * heading lines are skipped: they name a topic, they do not state anything.
 */
function splitSentences(text: string): Sentence[] {
  const sentences: Sentence[] = [];
  const boundary = /[.!?]["'”’)\]]*(?=\s)|\n/gu;
  let from = 0;
  const push = (startChar: number, endChar: number) => {
    const raw = text.slice(startChar, endChar);
    const lead = raw.length - raw.trimStart().length;
    const body = raw.trim();
    if (body === "" || body.startsWith("#")) return;
    if (body.split(/\s+/u).length < MIN_SENTENCE_WORDS) return;
    const start = Buffer.byteLength(text.slice(0, startChar + lead), "utf8");
    sentences.push({ start, end: start + Buffer.byteLength(body, "utf8"), text: body });
  };
  for (const match of text.matchAll(boundary)) {
    const end = match.index + match[0].length;
    push(from, end);
    from = end;
  }
  push(from, text.length);
  return sentences;
}

interface Candidate {
  evidenceId: string;
  rank: number;
  sentence: Sentence;
  docStart: number;
  docId: string;
  matched: string[];
  coverage: number;
}

function byStrength(a: Candidate, b: Candidate): number {
  return b.matched.length - a.matched.length || a.rank - b.rank || a.sentence.start - b.sentence.start;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

export const extractiveReasonerV1: Reasoner = {
  id: ID,
  version: VERSION,
  derive(input: ReasonerInput): Derivation {
    const wanted = new Set(input.queryTerms);
    // The best sentence of each piece of evidence; a piece with none is not relevant.
    const best: Candidate[] = [];
    for (const ev of input.evidence) {
      const candidates = splitSentences(ev.text)
        .map((sentence): Candidate => {
          const matched = contentTerms(sentence.text).filter((t) => wanted.has(t));
          return {
            evidenceId: ev.id,
            rank: ev.rank,
            sentence,
            docStart: ev.span[0] + sentence.start,
            docId: ev.docId,
            matched,
            coverage: wanted.size === 0 ? 0 : matched.length / wanted.size,
          };
        })
        .filter((c) => c.matched.length > 0)
        .sort(byStrength);
      if (candidates[0] !== undefined) best.push(candidates[0]);
    }
    best.sort(byStrength);
    // Overlapping chunks hold the same sentence twice: cite each document byte range once.
    const seen = new Set<string>();
    const distinct = best.filter((c) => {
      const key = `${c.docId}\u0000${c.docStart}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (distinct.length < input.minSupports || distinct[0] === undefined) {
      return {
        kind: "insufficient",
        reason:
          distinct.length === 0
            ? "no retrieved sentence shares a content word with the question"
            : `only ${distinct.length} relevant piece(s) of evidence, ${input.minSupports} required`,
        relevantEvidence: distinct.length,
        required: input.minSupports,
      };
    }
    const top = distinct[0];
    const chosen = distinct.filter(
      (c, i) =>
        i < input.minSupports ||
        (i < input.maxCitations && c.matched.length >= top.matched.length * EXTRA_CITATION_RATIO),
    );
    const citations: ReasonerCitation[] = chosen.map((c) => ({
      evidence_id: c.evidenceId,
      span: [c.sentence.start, c.sentence.end],
      sha256: sha256Hex(Buffer.from(c.sentence.text, "utf8")),
    }));
    return {
      kind: "claim",
      statement: top.sentence.text,
      confidence: round4(top.coverage),
      citations,
      structured: {
        matched_terms: top.matched,
        query_terms: [...input.queryTerms],
        candidates_considered: distinct.length,
      },
    };
  },
};
