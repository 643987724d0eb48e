/**
 * Analyzers turn text into index terms. Their name and version are recorded in every
 * index's provenance: changing either changes the index hash, so replay and diff see it.
 */
import { stemmer } from "stemmer";
import { CanonError } from "../errors.js";
import { NON_ASCII } from "./chunker.js";

export interface Analyzer {
  readonly name: "simple" | "english";
  readonly id: string;
  readonly version: string;
  tokenize(text: string): string[];
}

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
    "who whom why will with won would wouldn you your yours yourself yourselves also may might must shall upon " +
    "whose us one many much every within without would yet ever"
  ).split(" "),
);

// Letters and digits in any script; apostrophes and hyphens split words.
const WORD = /[\p{L}\p{N}]+/gu;

function simpleTokens(text: string): string[] {
  // ASCII text is already NFKC-normal: skipping normalize() there is a large saving on big corpora.
  const normal = NON_ASCII.test(text) ? text.normalize("NFKC") : text;
  // toLowerCase is locale-independent in JavaScript (unlike toLocaleLowerCase): same terms everywhere.
  return normal.toLowerCase().match(WORD) ?? [];
}

const simple: Analyzer = { name: "simple", id: "simple", version: "1", tokenize: simpleTokens };

const stems = new Map<string, string>();
function stem(token: string): string {
  let s = stems.get(token);
  if (s === undefined) {
    s = stemmer(token);
    // The cache is a pure speed-up; cap it so a huge vocabulary cannot exhaust memory.
    if (stems.size < 2_000_000) stems.set(token, s);
  }
  return s;
}

const english: Analyzer = {
  name: "english",
  id: "english",
  version: "1",
  tokenize(text) {
    const out: string[] = [];
    for (const token of simpleTokens(text)) if (!STOP_WORDS.has(token)) out.push(stem(token));
    return out;
  },
};

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
