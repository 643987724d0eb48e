/**
 * The index build reads words through WordTable (a char-code scanner and hash table for ASCII
 * words, forEachWord for the rest), queries through the analyzer's tokenize (forEachWord alone).
 * Both must give the same words, ranges and terms, and the table must give term ids in
 * first-seen order, or an index and the queries run on it would disagree. The text is generated
 * from every Unicode general category (each category's characters found by scanning the code
 * space, not listed by hand), mixed with ASCII words, combining marks, surrogate pairs and lone
 * surrogates, and enough distinct words that the table grows and rehashes many times.
 */
import { describe, expect, it } from "vitest";
import { forEachWord, getAnalyzer } from "../../../src/core/retrieval/analyzer.js";
import { WordTable } from "../../../src/core/retrieval/word-table.js";

/** The 30 general categories (Unicode's closed list: L, M, N, P, S, Z and C, subdivided). */
const CATEGORIES =
  "Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co Cn".split(" ");

/** Code points of each category: all of the BMP, and every 61st code point above it. */
function charactersByCategory(): Map<string, number[]> {
  const tests = CATEGORIES.map((c) => [c, new RegExp(`^\\p{${c}}$`, "u")] as const);
  const out = new Map<string, number[]>(CATEGORIES.map((c) => [c, []]));
  for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 61) {
    const ch = String.fromCodePoint(cp);
    for (const [c, re] of tests)
      if (re.test(ch)) {
        out.get(c)?.push(cp);
        break;
      }
  }
  return out;
}

/** A small deterministic generator (mulberry32): the same text on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ASCII_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ASCII_OTHER = " \t\n'-.,;:!?()[]\"/\\_@#$%^&*+=<>|`~\u0000\u007f";

function generateTexts(count: number, seed: number): string[] {
  const byCategory = charactersByCategory();
  const rand = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const asciiWord = (): string => {
    const length = 1 + Math.floor(rand() * rand() * 16);
    let w = "";
    for (let k = 0; k < length; k++) w += pick([...ASCII_WORD]);
    return w;
  };
  const other = (): string => {
    const r = rand();
    if (r < 0.35) return String.fromCodePoint(pick(byCategory.get(pick(CATEGORIES)) as number[]));
    if (r < 0.45) return String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)); // a lone surrogate
    if (r < 0.55) return pick(["e\u0301", "\u00e9", "\ufb01", "\u00bd", "\u2460", "\u0130", "\u1e9e"]);
    return pick([...ASCII_OTHER]);
  };
  const texts: string[] = [];
  for (let t = 0; t < count; t++) {
    let text = "";
    const pieces = 20 + Math.floor(rand() * 200);
    for (let p = 0; p < pieces; p++) text += rand() < 0.6 ? asciiWord() : other();
    texts.push(text);
  }
  return texts;
}

describe("WordTable", () => {
  it("generates text from every general category", () => {
    const byCategory = charactersByCategory();
    for (const c of CATEGORIES) expect(byCategory.get(c)?.length, c).toBeGreaterThan(0);
  });

  it("gives the analyzer's words, ranges and terms, with term ids in first-seen order", () => {
    const english = getAnalyzer("english");
    const texts = generateTexts(600, 25);
    // Term ids as the build gives them: a new term gets the next id.
    const ids = new Map<string, number>();
    const terms: string[] = [];
    const table = new WordTable((word) => {
      const term = english.term(word);
      if (term === null) return -1;
      let id = ids.get(term);
      if (id === undefined) {
        id = terms.length;
        ids.set(term, id);
        terms.push(term);
      }
      return id;
    });
    const firstSeen: string[] = [];
    const seen = new Set<string>();
    for (const text of texts) {
      const expected: [string, number, number][] = [];
      forEachWord(text, (word, start, end) => {
        const term = english.term(word);
        if (term === null) return;
        expected.push([term, start, end]);
        if (!seen.has(term)) firstSeen.push(term);
        seen.add(term);
      });
      const count = table.scan(text);
      const got: [string, number, number][] = [];
      for (let w = 0; w < count; w++)
        got.push([
          terms[table.wordValue[w] as number] as string,
          table.wordStart[w] as number,
          table.wordEnd[w] as number,
        ]);
      expect(got, JSON.stringify(text)).toEqual(expected);
      expect(got.map(([term]) => term)).toEqual(english.tokenize(text));
    }
    expect(terms).toEqual(firstSeen);
    // Enough distinct words that the table grew and rehashed from its first size many times.
    expect(terms.length).toBeGreaterThan(10_000);
  });
});
