/**
 * Escaping on by default for the report pages (CONTRIBUTING.md "Pages"): the `html` tag escapes every
 * interpolated value unless it is already `Html`, so text from a run is never concatenated into
 * markup. `page` wraps a body in a self-contained document whose Content-Security-Policy allows
 * nothing but its own inline style and script, named by their sha256 hashes: no network request,
 * no other script, works from file://.
 */
import { createHash } from "node:crypto";

/** Markup known to be safe: made by `html` (or `raw` for this module's own constants). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Part = Html | string | number | null | undefined | false | readonly Part[];

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  // A literal CR would be folded into LF by the HTML parser; a character reference survives, so
  // a highlighted span holds exactly the cited bytes.
  "\r": "&#13;",
};

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ENTITIES[c] as string);
}

function render(part: Part): string {
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join("");
  if (part === null || part === undefined || part === false) return "";
  return escapeHtml(String(part));
}

/** A template whose every interpolation is escaped (arrays are joined, null and false are empty). */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? "";
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

const cspHash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export interface PageParts {
  title: string;
  style: string;
  script: string;
  body: Html;
}

/** A rendered page and its Content-Security-Policy (the service sends it as a header too). */
export interface RenderedPage {
  html: string;
  csp: string;
}

/** A complete, self-contained HTML document. `style` and `script` are this module's constants. */
export function page(parts: PageParts): RenderedPage {
  const csp = [
    "default-src 'none'",
    `style-src ${cspHash(parts.style)}`,
    `script-src ${cspHash(parts.script)}`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const document = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(parts.title)}</title>
<style>${parts.style}</style>
</head>
<body>
${parts.body.value}
<script>${parts.script}</script>
</body>
</html>
`;
  return { html: document, csp };
}
