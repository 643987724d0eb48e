/**
 * Analyzers turn text into index terms. Their name and version are recorded in every
 * index's provenance: changing either changes the index hash, so replay and diff see it.
 */
import { stemmer } from "stemmer";
import { CanonError } from "../errors.js";
import { NON_ASCII } from "./chunker.js";

export class UnknownAnalyzerError extends CanonError {
  constructor(name: string) {
    super("E_UNKNOWN_ANALYZER", `unknown analyzer "${name}" (known: simple, english)`, {
      exitCode: 2,
      where: { field: "analyzer" },
    });
  }
}

/** English stop words: function words that say nothing about a topic (Lucene's and NLTK's lists, merged). */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a about above after again against all am an and any are aren as at be because been before being below between " +
    "both but by can cannot could couldn did didn do does doesn doing don down during each few for from further had " +
    "hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn it its itself " +
    "just ll me more most mustn my myself no nor not now of off on once only or other ought our ours ourselves out " +
    "over own re s same shan she should shouldn so some such t than that the their theirs them themselves then there " +
    "these they this those through to too under until up ve very was wasn we were weren what when where which while " +
    "who whom why will with would wouldn you your yours yourself yourselves also may might must shall upon " +
    "whose us one many much every within without would yet ever"
  ).split(" "),
);

// Letters, digits and combining marks in any script; apostrophes and hyphens split words.
// Marks are matched so that NFKC (applied per word) can compose "e" + U+0301 into "é".
const RAW_WORD = /[\p{L}\p{N}\p{M}]+/gu;
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Calls `visit` with each normalized word and the code-unit range of the raw word it came
 * from. ASCII words are only lowercased; other words are NFKC-normalized, which may split
 * them (e.g. "½" -> "1", "2"). toLowerCase is locale-independent in JavaScript (unlike
 * toLocaleLowerCase): the same text gives the same words on every machine.
 */
export function forEachWord(text: string, visit: (word: string, start: number, end: number) => void): void {
  RAW_WORD.lastIndex = 0;
  for (let m = RAW_WORD.exec(text); m !== null; m = RAW_WORD.exec(text)) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    if (!NON_ASCII.test(raw)) visit(raw.toLowerCase(), start, end);
    else for (const part of raw.normalize("NFKC").toLowerCase().match(WORD) ?? []) visit(part, start, end);
  }
}

export interface Analyzer {
  readonly name: "simple" | "english";
  readonly id: string;
  readonly version: string;
  /** The index term for one normalized word, or null when the word is not indexed (a stop word). */
  term(word: string): string | null;
  tokenize(text: string): string[];
}

function analyzer(name: Analyzer["name"], term: (word: string) => string | null): Analyzer {
  return {
    name,
    id: name,
    version: "1",
    term,
    tokenize(text) {
      const out: string[] = [];
      forEachWord(text, (word) => {
        const t = term(word);
        if (t !== null) out.push(t);
      });
      return out;
    },
  };
}

const simple = analyzer("simple", (word) => word);
/**
 * Stems already computed, by word. Stemming is a pure function of the word, so a stem from the
 * memo is the stem: queries repeat their vocabulary, and the Porter stemmer's regular
 * expressions cost more than the search itself on a small index (SciFact's claims: about 20 us
 * of stemming per claim, under 1 us from the memo). Cleared when it reaches MEMO_WORDS, so its
 * memory stays bounded whatever a long-running service is asked.
 */
const stems = new Map<string, string>();
const MEMO_WORDS = 1 << 16;

function stem(word: string): string {
  let s = stems.get(word);
  if (s === undefined) {
    s = stemmer(word);
    if (stems.size >= MEMO_WORDS) stems.clear();
    stems.set(word, s);
  }
  return s;
}

const english = analyzer("english", (word) => (STOP_WORDS.has(word) ? null : stem(word)));

const ANALYZERS: Readonly<Record<string, Analyzer>> = { simple, english };

export function getAnalyzer(name: string): Analyzer {
  const analyzer = Object.hasOwn(ANALYZERS, name) ? ANALYZERS[name] : undefined;
  if (analyzer === undefined) throw new UnknownAnalyzerError(name);
  return analyzer;
}

/** Distinct content terms (stop words dropped, stemmed), in first-occurrence order. */
export function contentTerms(text: string): string[] {
  return [...new Set(english.tokenize(text))];
}
