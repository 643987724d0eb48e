/**
 * Grounding the model's claims (llm.ts): each quote located in its evidence's exact text and
 * turned into a byte-span citation of the source, and the claims kept that have enough distinct
 * source spans within the citation budget. Nothing the model says is trusted: only bytes that
 * are in the evidence are cited.
 */
import * as z from "zod";
import { sha256Hex } from "../canonical.js";
import { shown } from "./llm-response.js";
import type { ReasonerCitation, ReasonerInput } from "./reasoner.js";

/** Bounds on what is read from a response, so a hostile endpoint cannot make the work unbounded. */
const MAX_CLAIMS = 32;
const MAX_QUOTES_PER_CLAIM = 16;

const ModelClaim = z.object({
  statement: z.string(),
  citations: z.array(z.object({ evidence: z.int(), quote: z.string() })),
});

/**
 * Where `quote` is in `text`: verbatim, else with each run of whitespace in the quote matching
 * any run of whitespace in the text (a model reflows line breaks and doubled spaces). The
 * match is the exact source text, which is what gets cited.
 */
export function locateQuote(text: string, quote: string): { at: number; matched: string } | null {
  const at = text.indexOf(quote);
  if (at !== -1) return { at, matched: quote };
  const words = quote
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  if (words.length === 0) return null;
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"), "u");
  const match = pattern.exec(text);
  return match === null ? null : { at: match.index, matched: match[0] };
}

/** Char index in a string -> UTF-8 byte offset. */
const byteOffset = (text: string, index: number) => Buffer.byteLength(text.slice(0, index), "utf8");

export interface GroundedClaim {
  statement: string;
  citations: ReasonerCitation[];
}

/** A citation's bytes in its document: the evidence's span start plus the citation's offsets. */
interface SourceSpan {
  doc: string;
  start: number;
  end: number;
}

const overlaps = (a: SourceSpan, b: SourceSpan) => a.doc === b.doc && a.start < b.end && b.start < a.end;

/** Locates each quote of one claim; records why each dropped quote was dropped. */
function groundClaim(
  claim: z.infer<typeof ModelClaim>,
  n: number,
  input: ReasonerInput,
  rejected: string[],
): { grounded: GroundedClaim; quotes: number } {
  const citations: ReasonerCitation[] = [];
  const sources: SourceSpan[] = [];
  const quotes = claim.citations.slice(0, MAX_QUOTES_PER_CLAIM);
  for (const [j, c] of quotes.entries()) {
    const where = `claim ${n}, quote ${j + 1}`;
    const evidence = input.evidence[c.evidence - 1];
    if (evidence === undefined) {
      rejected.push(`${where}: there is no evidence [${c.evidence}]`);
      continue;
    }
    if (c.quote.trim() === "") {
      rejected.push(`${where}: the quote is empty`);
      continue;
    }
    const found = locateQuote(evidence.text, c.quote);
    if (found === null) {
      rejected.push(`${where}: ${shown(c.quote)} is not found in evidence [${c.evidence}]`);
      continue;
    }
    const start = byteOffset(evidence.text, found.at);
    const bytes = Buffer.from(found.matched, "utf8");
    const source = {
      doc: evidence.docId,
      start: evidence.span[0] + start,
      end: evidence.span[0] + start + bytes.length,
    };
    // The same sentence reached through two overlapping passages is one support, not two.
    if (sources.some((s) => overlaps(s, source))) {
      rejected.push(`${where}: quotes source bytes an earlier quote of the claim already cites`);
      continue;
    }
    sources.push(source);
    citations.push({
      evidence_id: evidence.id,
      span: [start, start + bytes.length] as [number, number],
      sha256: sha256Hex(bytes),
    });
  }
  return { grounded: { statement: claim.statement.trim(), citations }, quotes: quotes.length };
}

/** The claims kept, why the others were dropped, and the counts the derivation reports. */
export interface ClaimSelection {
  kept: GroundedClaim[];
  rejected: string[];
  /** The quotes read, and those found in their evidence. */
  quotes: number;
  found: number;
  /** The most distinct source spans any claim quoted. */
  relevant: number;
}

/**
 * Grounds each claim of the answer in turn (up to MAX_CLAIMS) and keeps those left with
 * `min_supports_per_claim` distinct source spans, as many of their citations as still fit
 * under `max_citations`.
 */
export function selectClaims(claims: readonly unknown[], input: ReasonerInput): ClaimSelection {
  const rejected: string[] = [];
  const kept: GroundedClaim[] = [];
  let budget = input.maxCitations;
  let quotes = 0;
  let found = 0;
  let relevant = 0;
  if (claims.length > MAX_CLAIMS) rejected.push(`claims after the first ${MAX_CLAIMS} were not read`);
  for (const [i, raw] of claims.slice(0, MAX_CLAIMS).entries()) {
    const n = i + 1;
    const claim = ModelClaim.safeParse(raw);
    if (!claim.success) {
      const issue = claim.error.issues[0];
      rejected.push(
        `claim ${n}: does not follow the contract (${issue?.path.join(".") || "claim"}: ${issue?.message})`,
      );
      continue;
    }
    const { grounded, quotes: asked } = groundClaim(claim.data, n, input, rejected);
    quotes += asked;
    found += grounded.citations.length;
    // Each citation left is a distinct source span (groundClaim drops overlapping ones).
    relevant = Math.max(relevant, grounded.citations.length);
    if (grounded.statement === "") {
      rejected.push(`claim ${n}: the statement is empty`);
      continue;
    }
    const fitting = grounded.citations.slice(0, budget);
    const supports = fitting.length;
    if (supports < input.minSupports) {
      rejected.push(
        fitting.length < grounded.citations.length
          ? `claim ${n}: no room left under max_citations ${input.maxCitations}`
          : `claim ${n}: ${supports} distinct source span(s) quoted, ${input.minSupports} required`,
      );
      continue;
    }
    budget -= fitting.length;
    kept.push({ statement: grounded.statement, citations: fitting });
  }
  return { kept, rejected, quotes, found, relevant };
}
