/** Pieces every report page shares: the document shell, numbers, byte spans. */
import type { VerificationReport } from "../models/verification-report.js";
import { SCRIPT, STYLE } from "./assets.js";
import { type Html, html, page, type RenderedPage } from "./html.js";

/** A number as recorded, or a dash for none. Never locale-formatted: pages are deterministic. */
export function num(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

export function verdictBadge(verdict: "pass" | "fail" | null): Html {
  if (verdict === null) return html`<span class="badge muted">not verified</span>`;
  return verdict === "pass"
    ? html`<span class="badge pass">PASS</span>`
    : html`<span class="badge fail">FAIL</span>`;
}

export function verdictLine(report: VerificationReport): Html {
  const s = report.summary;
  return html`${verdictBadge(report.verdict)} ${s.passed} of ${s.checks} checks passed (policy ${report.policy})`;
}

export function shell(title: string, heading: Html, main: Html): RenderedPage {
  return page({
    title,
    style: STYLE,
    script: SCRIPT,
    body: html`<header class="top">${heading}</header>
<main>${main}</main>`,
  });
}

const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * The text before, at and after a byte span of UTF-8 bytes, each decoded on its own: the
 * highlight is exactly the recorded bytes, never a search for the quote. A span outside the
 * bytes, or one that cuts a character, is a problem to show rather than a guess.
 */
export function splitAtSpan(
  bytes: Uint8Array,
  span: readonly [number, number],
): { before: string; cited: string; after: string } | { problem: string } {
  const [start, end] = span;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end))
    return { problem: `span [${start}, ${end}) is not a byte range` };
  if (end > bytes.length) return { problem: `span [${start}, ${end}) lies outside ${bytes.length} bytes` };
  try {
    return {
      before: strict.decode(bytes.subarray(0, start)),
      cited: strict.decode(bytes.subarray(start, end)),
      after: strict.decode(bytes.subarray(end)),
    };
  } catch {
    return { problem: `span [${start}, ${end}) does not fall on UTF-8 character boundaries` };
  }
}

/** Clips long text for one-line summaries (by code points, so no surrogate is split). */
export function clip(text: string, max = 160): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}
