/** Terminal renderings of answers, runs and reports. Plain text: readable in a log too. */

import type { AnswerView } from "../core/models/run.js";
import type { VerificationReport } from "../core/models/verification-report.js";

const WIDTH = 96;

/** Word-wraps `text`; the first line starts with `first`, the rest are indented to match it. */
function wrap(text: string, first: string): string {
  const indent = " ".repeat(first.length);
  const words = text.split(/\s+/u).filter((w) => w !== "");
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l, i) => `${i === 0 ? first : indent}${l}`).join("\n");
}

export function renderVerdict(report: VerificationReport): string {
  const s = report.summary;
  const failed = report.failures.filter((f) => f.severity === "error").map((f) => `${f.check}: ${f.message}`);
  return `${report.verdict.toUpperCase()} (${s.passed}/${s.checks} checks passed, policy ${report.policy})${failed.length > 0 ? `\n${failed.map((f) => `  - ${f}`).join("\n")}` : ""}`;
}

export function renderAnswer(
  answer: AnswerView,
  report: VerificationReport,
  runDir: string,
  corpusDocuments: number | null = null,
): string {
  const out: string[] = [`Question: ${answer.question}`, ""];
  // How much was searched: an empty or mis-read corpus is visible at a glance.
  if (corpusDocuments !== null) out.push(`Corpus: ${corpusDocuments} document(s)`, "");
  if (answer.status === "answered" && answer.answer !== null) {
    const confidence = answer.claims[0]?.confidence;
    out.push("Answer:", wrap(answer.answer, "  "), "");
    // Coverage of the question's weight, not a probability (README "How confident is an answer?").
    if (confidence !== undefined) out.push(`Confidence: ${confidence}`, "");
    const citations = answer.claims.flatMap((c) => c.citations);
    out.push(`Citations (${citations.length}):`);
    citations.forEach((c, i) => {
      out.push(wrap(`"${c.quote}"`, `  [${i + 1}] `.padEnd(7)));
      out.push(
        `       ${c.doc_id}, bytes ${c.doc_span[0]}-${c.doc_span[1]}, sha256 ${c.sha256.slice(0, 12)}`,
      );
    });
  } else {
    out.push("Answer: insufficient evidence", wrap(answer.uncertainty ?? "", "  "));
  }
  out.push("", `Verification: ${renderVerdict(report)}`, `Run: ${runDir}`, "");
  return out.join("\n");
}
