/** The pure page renderers: escaping, byte spans, the CSP, damaged runs, case regressions. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toRunView } from "../../../src/core/artifact/view.js";
import type { EvalCaseLine } from "../../../src/core/eval/results.js";
import { splitAtSpan } from "../../../src/core/report/common.js";
import { caseRegressions } from "../../../src/core/report/eval-page.js";
import { escapeHtml, html } from "../../../src/core/report/html.js";
import { renderRunPage } from "../../../src/core/report/run-page.js";
import { verifyRun } from "../../../src/core/verify/verifier.js";
import { DiskStore } from "../../../src/io/store/content-store.js";
import { produceFixture, withFiles } from "../../helpers/produce.js";

describe("html", () => {
  it("escapes every interpolation, in text and attributes, and CR as a character reference", () => {
    const evil = `<script>alert("x")</script> & 'q'\r\n`;
    expect(escapeHtml(evil)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;&#13;\n",
    );
    expect(html`<a title="${evil}">${evil}</a>`.value).toBe(
      `<a title="${escapeHtml(evil)}">${escapeHtml(evil)}</a>`,
    );
  });

  it("nests markup once, joins arrays and drops null, undefined and false", () => {
    const items = ["<a>", "b"].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}${null}${undefined}${false}${0}</ul>`.value).toBe(
      "<ul><li>&lt;a&gt;</li><li>b</li>0</ul>",
    );
  });
});

describe("splitAtSpan", () => {
  const text = "é☕ 東京🍰 end";
  const bytes = Buffer.from(text, "utf8");
  const at = (s: string) => Buffer.byteLength(text.slice(0, text.indexOf(s)), "utf8");

  it("cuts at byte offsets, not string offsets, in multi-byte text", () => {
    const start = at("東京");
    const end = start + Buffer.byteLength("東京🍰", "utf8");
    expect(splitAtSpan(bytes, [start, end])).toEqual({ before: "é☕ ", cited: "東京🍰", after: " end" });
    expect(splitAtSpan(bytes, [0, 0])).toEqual({ before: "", cited: "", after: text });
  });

  it("reports a span that cuts a character or lies outside the bytes, instead of guessing", () => {
    expect(splitAtSpan(bytes, [1, 4])).toEqual({
      problem: "span [1, 4) does not fall on UTF-8 character boundaries",
    });
    expect(splitAtSpan(bytes, [0, bytes.length + 1])).toEqual({
      problem: `span [0, ${bytes.length + 1}) lies outside ${bytes.length} bytes`,
    });
    expect(splitAtSpan(bytes, [5, 2])).toEqual({ problem: "span [5, 2) is not a byte range" });
  });
});

describe("renderRunPage", () => {
  it("allows exactly its own inline style and script by hash, and nothing from the network", async () => {
    const run = await produceFixture("How is a trick won in bridge?");
    const report = verifyRun({
      files: run.files,
      store: new DiskStore(run.root),
      policy: "audit",
      stage: "sealed",
      runDirName: run.runId,
    });
    const page = renderRunPage({ view: run.view, verification: report, timings: null });
    const hash = (tag: string) => {
      const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page.html)?.[1] ?? "";
      return `'sha256-${createHash("sha256").update(body).digest("base64")}'`;
    };
    expect(page.csp).toBe(
      `default-src 'none'; style-src ${hash("style")}; script-src ${hash("script")}; img-src data:; base-uri 'none'; form-action 'none'`,
    );
    expect(page.html).toContain("No step durations");
    expect(page.html.indexOf('id="answer"')).toBeLessThan(page.html.indexOf('id="verification"'));
    // Issue 19: the labels are shown as what they are.
    expect(page.html).toContain("<dt>recorded, not verified</dt>");
    expect(page.html).toContain("run.json inputs.seed");
  });

  it("still renders a run whose answer and trace do not parse, opening on the failed checks", async () => {
    const run = await produceFixture("How is a trick won in bridge?");
    const files = withFiles(run.files, { "answer.json": "{", "trace.jsonl": "not json\n" });
    const view = toRunView(files).view;
    const report = verifyRun({
      files,
      store: new DiskStore(run.root),
      policy: "audit",
      stage: "sealed",
      runDirName: run.runId,
    });
    expect(report.verdict).toBe("fail");
    const page = renderRunPage({ view, verification: report, timings: null }).html;
    expect(page).toContain("answer.json is unreadable");
    expect(page).toContain("trace.jsonl is unreadable");
    expect(page.indexOf('id="verification"')).toBeLessThan(page.indexOf('id="answer"'));
    expect(page).toMatch(/<title>FAILED /);
  });
});

describe("caseRegressions", () => {
  const base: EvalCaseLine = {
    case_id: "q",
    run_id: `run_v1_${"a".repeat(64)}`,
    status: "answered",
    verdict: "pass",
    metrics: { ndcg_at_10: 0.8, answer_hit: 1, citation_precision: 1 },
  };

  it("names what got worse beyond the tolerance, and nothing within it", () => {
    expect(caseRegressions({ ...base, metrics: { ...base.metrics, ndcg_at_10: 0.795 } }, base, 0.01)).toEqual(
      [],
    );
    expect(
      caseRegressions(
        {
          ...base,
          verdict: "fail",
          status: "insufficient_evidence",
          metrics: { ndcg_at_10: 0.5, answer_hit: null, citation_precision: 1 },
        },
        base,
        0.01,
      ),
    ).toEqual([
      "verification now fails",
      "no longer answered",
      "ndcg_at_10 0.8000 → 0.5000",
      "answer_hit 1 → –",
    ]);
    expect(caseRegressions(base, undefined, 0.01)).toEqual([]);
  });
});
