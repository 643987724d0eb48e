/**
 * Real runs for the report page tests, written by the same runJob the CLI uses: a document with
 * multi-byte text (é, emoji, CJK), one whose text is HTML meant to execute, one with CRLF line
 * ends, a run whose evidence file was tampered with, two runs that differ in top_k, and an eval
 * folder (with a baseline folder) over the same corpus.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runEval, writeEvalOutput } from "../../src/app/eval/eval.js";
import { runJob } from "../../src/app/run/run-job.js";
import { loadSuite } from "../../src/io/eval/eval-input.js";
import { SMALL_CORPUS } from "./produce.js";
import { tempDir, writeFiles } from "./tmp.js";

export const MULTIBYTE_DOC =
  "# Café crème ☕\n\nNotes from 東京 and Paris: 珈琲 is loved everywhere 🎉.\n\nA café crème is an espresso served with hot cream in a large cup, said the barista in 東京 🍰. Ça va très bien.\n";

/** Every payload sets window.__pwned (or opens a dialog) if it ever runs. */
export const HOSTILE_DOC =
  "# Evil <script>window.__pwned = 'title'</script>\n\nThe juggler <img src=x onerror=\"window.__pwned='img'\"> juggles flaming torches <script>window.__pwned='body';alert(1)</script> at the circus every night.\n";

export const REPORT_CORPUS: Record<string, string> = {
  ...SMALL_CORPUS,
  "cafe.md": MULTIBYTE_DOC,
  "evil.md": HOSTILE_DOC,
  "crlf.txt":
    "Checkers is played on a board of sixty-four squares.\r\nA checkers piece is crowned when it reaches the far row.\r\n",
};

export interface ReportRuns {
  root: string;
  corpus: string;
  runDir: (name: keyof ReportRuns["ids"]) => string;
  ids: {
    multibyte: string;
    hostile: string;
    crlf: string;
    tampered: string;
    topK3: string;
    insufficient: string;
  };
  /** A second artifacts root holding the tampered run. */
  tamperedRoot: string;
  evalDir: string;
  baselineDir: string;
}

async function run(
  root: string,
  corpus: string,
  question: string,
  constraints: Record<string, unknown> = {},
) {
  const result = await runJob({
    spec: { version: "1", description: question, constraints: { corpus, ...constraints } },
    preset: "default",
    seed: 0,
    artifactsRoot: root,
  });
  if (result.report.verdict !== "pass") throw new Error(`fixture run failed verification: ${question}`);
  return result;
}

export async function makeReportRuns(): Promise<ReportRuns> {
  const root = tempDir("canon-report-");
  const corpus = tempDir("canon-report-corpus-");
  writeFiles(corpus, REPORT_CORPUS);
  const multibyte = await run(root, corpus, "What is a café crème served with?");
  const hostile = await run(root, corpus, "What does the juggler juggle at the circus?");
  const crlf = await run(root, corpus, "When is a checkers piece crowned?");
  const topK3 = await run(root, corpus, "What is a café crème served with?", { top_k: 3 });
  const insufficient = await run(root, corpus, "Who won the 2018 FIFA World Cup final?");

  // The same run in another root, the first cited byte of its evidence file altered.
  const tamperedRoot = tempDir("canon-report-tampered-");
  const tampered = await run(tamperedRoot, corpus, "What is a café crème served with?");
  const support = tampered.trace.events.flatMap((e) =>
    e.type === "claim_emitted" ? e.claim.supports.filter((s) => s.kind === "evidence") : [],
  )[0];
  const evidence = tampered.trace.events.find(
    (e) => e.type === "evidence_registered" && e.evidence.id === support?.ref,
  );
  if (evidence?.type !== "evidence_registered" || support?.span === undefined) throw new Error("no citation");
  const path = join(tampered.runDir, evidence.evidence.content_path);
  const bytes = readFileSync(path);
  const at = support.span[0];
  bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
  writeFileSync(path, bytes);

  const suite = tempDir("canon-report-suite-");
  writeFiles(suite, {
    "suite.json": JSON.stringify({ corpus, name: "report-demo", version: "1" }),
    "problems.jsonl": [
      {
        case_id: "cafe",
        description: "What is a café crème served with?",
        expected: { relevant: { "cafe.md": 2 } },
      },
      {
        case_id: "<b>juggler</b>",
        description: "What does the juggler juggle at the circus?",
        expected: { relevant: { "evil.md": 2 } },
      },
      {
        case_id: "trick",
        description: "How is a trick won in contract bridge?",
        expected: { relevant: { "bridge.md": 2 } },
      },
      {
        case_id: "fifa",
        description: "Who won the 2018 FIFA World Cup final?",
        expected: { answerable: false },
      },
    ]
      .map((c) => JSON.stringify(c))
      .join("\n"),
  });
  const input = loadSuite(suite);
  const options = { artifactsRoot: root, preset: "default", overrides: {}, workers: 1 };
  const outcome = await runEval(input, options);
  const { cases, summary } = outcome;
  const evalDir = join(root, "evals", "report-demo");
  writeEvalOutput(evalDir, outcome);
  // A baseline in which "trick" ranked perfectly and "cafe" was answered with full marks.
  const baselineDir = tempDir("canon-report-baseline-");
  const better = cases.map((c) =>
    c.case_id === "trick" ? { ...c, metrics: { ...c.metrics, ndcg_at_10: 1 } } : c,
  );
  writeEvalOutput(baselineDir, {
    ...outcome,
    cases: better,
    summary: { ...summary, metrics: { ...summary.metrics, ndcg_at_10: { mean: 1, cases: 3 } } },
  });

  const ids = {
    multibyte: multibyte.runId,
    hostile: hostile.runId,
    crlf: crlf.runId,
    tampered: tampered.runId,
    topK3: topK3.runId,
    insufficient: insufficient.runId,
  };
  return {
    root,
    corpus,
    ids,
    runDir: (name) => join(name === "tampered" ? tamperedRoot : root, "runs", ids[name]),
    tamperedRoot,
    evalDir,
    baselineDir,
  };
}
