/**
 * Sentence segmentation with exact UTF-8 byte spans (docs/design.md §3.4). One pure module, used by the
 * retrieve tool (to widen a chunk to whole sentences of its document) and by the extractive
 * reasoner (to find the sentences it cites), so both agree on every boundary.
 *
 * A rule set, not `Intl.Segmenter`: ICU's segmenter depends on the ICU data Node was built
 * with (a replay on another Node could split differently) and it breaks after "C." in
 * "C. difficile" and after "et al." (bench/sentence-boundaries.mjs compares the two on
 * SciFact's annotated sentences).
 *
 * A sentence ends at `.`, `!` or `?` (with any closing quotes or brackets) followed by
 * whitespace and a word that can start a sentence, or at a line break. A full stop is not a
 * boundary after a known abbreviation ("e.g.", "et al.", "Fig.", "approx."), after a single
 * capital letter (initials, "C. difficile", "U.S."), or when the next word starts in lower
 * case. Decimals ("2.5") never split: the stop is not followed by whitespace.
 */

export interface Sentence {
  /** UTF-8 byte offsets inside the text. */
  start: number;
  end: number;
  text: string;
  /** A Markdown heading line ("# Title"): it names a topic, it does not state anything. */
  heading: boolean;
}

/** Lower-cased abbreviations (without their final stop) after which a full stop never ends a sentence. */
const ABBREVIATIONS: ReadonlySet<string> = new Set(
  (
    "al e.g eg i.e ie cf vs viz approx ca resp dr mr mrs ms prof st jr sr inc ltd corp dept univ " +
    "sp spp subsp var"
  ).split(" "),
);

/** Abbreviations that do not end a sentence when a number follows ("Fig. 2", "No. 5", "p. 12"). */
const BEFORE_NUMBERS: ReadonlySet<string> = new Set(
  "fig figs eq eqs ref refs tab table no nos vol pp p sec ch chap suppl".split(" "),
);

/** The word immediately before position `dot` (letters, digits and inner dots), as written. */
function wordBefore(text: string, dot: number): string {
  let i = dot;
  while (i > 0 && /[\p{L}\p{N}.]/u.test(text[i - 1] as string)) i--;
  return text.slice(i, dot);
}

/** The word before the one that ends at `end` (skipping spaces and punctuation), as written. */
function previousWord(text: string, end: number): string {
  let i = end;
  while (i > 0 && !/[\p{L}\p{N}]/u.test(text[i - 1] as string)) i--;
  const stop = i;
  while (i > 0 && /[\p{L}\p{N}]/u.test(text[i - 1] as string)) i--;
  return text.slice(i, stop);
}

/**
 * Whether the punctuation at `punct` ends a sentence, given the first character after the
 * whitespace that follows it at `next`.
 */
function endsSentence(text: string, punct: number, next: number): boolean {
  const first = text[next] ?? "";
  // The next word in lower case continues the sentence ("C. difficile", "approx. five").
  if (/\p{Ll}/u.test(first)) return false;
  if (text[punct] !== ".") return true;
  const raw = wordBefore(text, punct);
  const word = raw.toLowerCase();
  if (ABBREVIATIONS.has(word)) return false;
  if (BEFORE_NUMBERS.has(word) && /\p{N}/u.test(first)) return false;
  // Dotted initialisms: "U.S.", "U.K.", "a.m." (e.g. and i.e. are abbreviations above).
  if (/^(?:\p{L}\.)+\p{L}$/u.test(raw)) return false;
  // A single capital is an initial ("J. R. Smith", "by J. Smith") unless it closes a phrase
  // such as "vitamin D." or "group A.": a lower-case word of four or more letters before it.
  if (/^\p{Lu}$/u.test(raw)) {
    const before = previousWord(text, punct - raw.length);
    return /^\p{Ll}{4,}$/u.test(before) || /\p{N}/u.test(before);
  }
  return true;
}

const CLOSERS = /["'”’)\]]/u;

/**
 * The sentences of `text`, in order, with UTF-8 byte spans. Whitespace between sentences
 * belongs to none; empty pieces are dropped. Heading lines are kept and flagged.
 */
export function splitSentences(text: string): Sentence[] {
  const cuts: Array<[number, number]> = [];
  let from = 0;
  const cut = (end: number) => {
    cuts.push([from, end]);
    from = end;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === "\n") {
      cut(i);
      continue;
    }
    if (ch !== "." && ch !== "!" && ch !== "?") continue;
    let j = i + 1;
    while (j < text.length && CLOSERS.test(text[j] as string)) j++;
    if (j >= text.length || !/[ \t\r\n\u00a0]/u.test(text[j] as string)) continue;
    let k = j;
    while (k < text.length && /[ \t\r\u00a0]/u.test(text[k] as string)) k++;
    if (k < text.length && text[k] !== "\n" && !endsSentence(text, i, k)) continue;
    cut(j);
    i = j - 1;
  }
  cut(text.length);
  return toSentences(text, cuts);
}

/** Trims each piece and converts its code-unit range to UTF-8 byte offsets in one pass. */
function toSentences(text: string, cuts: ReadonlyArray<readonly [number, number]>): Sentence[] {
  const out: Sentence[] = [];
  let charAt = 0;
  let byteAt = 0;
  const byteOffset = (char: number) => {
    byteAt += Buffer.byteLength(text.slice(charAt, char), "utf8");
    charAt = char;
    return byteAt;
  };
  for (const [a, b] of cuts) {
    const raw = text.slice(a, b);
    const body = raw.trim();
    if (body === "") continue;
    const lead = raw.length - raw.trimStart().length;
    const start = byteOffset(a + lead);
    const end = byteOffset(a + lead + body.length);
    out.push({ start, end, text: body, heading: body.startsWith("#") });
  }
  return out;
}

/** Words that make a sentence lean on the one before it for its subject ("It was invented ..."). */
const REFERRING = /^(?:it|its|this|these|that|those|they|their|them|he|she|his|her|such|here|there)\b/iu;

/** Whether a sentence opens by referring back to something named before it. */
export function refersBack(sentence: string): boolean {
  return REFERRING.test(sentence.replace(/^["'“‘(]+/u, ""));
}
