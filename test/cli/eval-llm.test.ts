/**
 * `eval --reasoner llm`: every case asks the scripted endpoint on 127.0.0.1, with --workers and
 * a request-rate bound; cases.jsonl does not depend on the worker count, and the summary
 * records the base URL without its credentials.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatServer, fail, passage, reply } from "../helpers/chat-server.js";
import { isCleanError, REPO, runCli, runCliAsync } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

/** A model that quotes the first eight words of the top passage. */
const quoteTop = reply((request) => {
  const quote = passage(request, 1).split(/\s+/).slice(0, 8).join(" ");
  return JSON.stringify({
    claims: [{ statement: `It says: ${quote}`, citations: [{ evidence: 1, quote }] }],
  });
});

describe("eval --reasoner llm", () => {
  it("gives the same cases with 1 and 2 workers under --max-rps, and keeps credentials out of the summary", async () => {
    const server = await chatServer([quoteTop]);
    const artifacts = tempDir();
    const evalWith = (workers: number) =>
      runCliAsync(
        [
          "eval",
          "--suite",
          join(REPO, "demo/suite"),
          "--limit",
          "4",
          "--reasoner",
          "llm",
          "--model",
          "test-model",
          "--base-url",
          server.baseUrl.replace("http://", "http://bob:hunter2@"),
          "--max-rps",
          "100",
          "--model-timeout",
          "5000",
          "--workers",
          String(workers),
          "--artifacts-dir",
          artifacts,
          "--out",
          join(artifacts, `out-${workers}`),
          "--json",
        ],
        // No key from the environment: the URL's user:password authenticate instead.
        { timeoutMs: 120_000, env: { CANON_REASON_LLM_API_KEY: "", OPENAI_API_KEY: "" } },
      );
    const one = await evalWith(1);
    const two = await evalWith(2);
    await server.close();
    expect(one.stderr).toBe("");
    expect(one.status).toBe(0);
    expect(two.status).toBe(0);
    expect(server.requests).toHaveLength(8);
    const cases = (w: number) => readFileSync(join(artifacts, `out-${w}`, "cases.jsonl"), "utf8");
    expect(cases(2)).toBe(cases(1));
    expect(cases(1).trim().split("\n")).toHaveLength(4);
    const summary = readFileSync(join(artifacts, "out-1", "summary.json"), "utf8");
    expect(summary).toContain(server.baseUrl);
    expect(summary).not.toContain("hunter2");
    expect(JSON.parse(one.stdout).metrics.verification_pass_rate.mean).toBe(1);
  });

  it("issue 21 item 12: a case whose request the endpoint rejects is recorded as failed and counted; the eval finishes", async () => {
    for (const workers of [1, 2]) {
      // The second request is rejected as the request's own fault (context length), the others answer.
      const server = await chatServer([quoteTop, fail(413), quoteTop]);
      const artifacts = tempDir();
      const out = join(artifacts, "out");
      const result = await runCliAsync(
        [
          "eval",
          "--suite",
          join(REPO, "demo/suite"),
          "--limit",
          "4",
          "--reasoner",
          "llm",
          "--model",
          "test-model",
          "--base-url",
          server.baseUrl,
          "--model-timeout",
          "5000",
          "--model-retries",
          "0",
          "--workers",
          String(workers),
          "--artifacts-dir",
          artifacts,
          "--out",
          out,
          "--json",
        ],
        { timeoutMs: 120_000 },
      );
      await server.close();
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toMatch(
        /warning: 1 case\(s\) failed .*\n {2}\S+: model endpoint .* rejected the request \(HTTP 413\)/,
      );
      const cases = readFileSync(join(out, "cases.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { status: string; run_id: string | null; error?: string });
      expect(cases).toHaveLength(4);
      const failed = cases.filter((c) => c.status === "failed");
      expect(failed).toHaveLength(1);
      expect(failed[0]?.run_id).toBeNull();
      expect(failed[0]?.error).toMatch(/HTTP 413/);
      const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
      expect(summary.failed_cases).toBe(1);
      expect(summary.cases).toBe(4);
      // The three other cases' runs, and nothing half-written.
      expect(readdirSync(join(artifacts, "runs")).sort()).toEqual(
        cases.flatMap((c) => (c.run_id === null ? [] : [c.run_id])).sort(),
      );
      // report --eval renders the failed case without a run link.
      const report = runCli([
        "report",
        "--eval",
        out,
        "-o",
        join(artifacts, "report"),
        "--artifacts-dir",
        artifacts,
      ]);
      expect(report.status, report.stderr).toBe(0);
    }
  });

  it("refuses a bad --max-rps, and llm flags without --reasoner llm, before any case runs", () => {
    const suite = ["eval", "--suite", join(REPO, "demo/suite"), "--artifacts-dir", tempDir()];
    for (const [flags, message] of [
      [["--max-rps", "-1"], /--max-rps must be between 0 and 10000/],
      [["--max-rps", "fast"], /--max-rps must be a number/],
      [["--model", "m"], /model is a setting of the llm reasoner/],
      [["--reasoner", "llm", "--model", "m", "--base-url", "gopher://h/v1"], /base_url/],
    ] as Array<[string[], RegExp]>) {
      const result = runCli([...suite, ...flags]);
      expect(result.status, flags.join(" ")).toBe(2);
      expect(result.stderr, flags.join(" ")).toMatch(message);
      expect(isCleanError(result)).toBe(true);
    }
  });
});
