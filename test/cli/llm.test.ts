/**
 * `run --reasoner llm` as a user runs it: the built CLI against a scripted chat-completions
 * server on 127.0.0.1. A run made from a recorded response verifies, replays frozen after the
 * server is gone, and fails closed when its recording is removed or altered; `diff` of two
 * runs whose model answers differ names the reasoner layer. Hostile values of the new flags
 * and constraints are refused with one line and exit 2.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { specFromOptions } from "../../src/cli/commands/run.js";
import { InputError } from "../../src/core/errors.js";
import { chatServer, passage, reply } from "../helpers/chat-server.js";
import { DEMO_CORPUS, isCleanError, runCli, runCliAsync } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

const QUESTION = "How is a trick won in contract bridge?";
const RULE = "a trick is won by the highest card of the suit that was led";

/** A model that answers with the rule, quoted from the passage that holds it. */
const answer = (statement: string) =>
  reply((request) => {
    const n = [1, 2, 3, 4, 5].find((i) => passage(request, i).includes(RULE)) ?? 1;
    return JSON.stringify({ claims: [{ statement, citations: [{ evidence: n, quote: RULE }] }] });
  });

const llmArgs = (baseUrl: string, artifacts: string) => [
  "run",
  QUESTION,
  "--corpus",
  DEMO_CORPUS,
  "--reasoner",
  "llm",
  "--model",
  "test-model",
  "--base-url",
  baseUrl,
  "--model-timeout",
  "5000",
  "--artifacts-dir",
  artifacts,
  "--json",
];

describe("run --reasoner llm", () => {
  it("verifies, replays frozen without the server, fails closed without its recording, diffs at the reasoner", async () => {
    const server = await chatServer([
      answer("The highest card of the suit led wins."),
      answer("The top card wins."),
    ]);
    const first = tempDir();
    const second = tempDir();
    const a = await runCliAsync(llmArgs(server.baseUrl, first), { timeoutMs: 60_000 });
    const b = await runCliAsync(llmArgs(server.baseUrl, second), { timeoutMs: 60_000 });
    await server.close();
    expect(a.stderr).toBe("");
    expect(a.status).toBe(0);
    const runA = JSON.parse(a.stdout) as { run_id: string; run_dir: string; answer: string };
    const runB = JSON.parse(b.stdout) as { run_id: string; run_dir: string; answer: string };
    expect(runA.answer).toBe("The highest card of the suit led wins.");
    // Same inputs, same run id; the model's answer is not an input.
    expect(runB.run_id).toBe(runA.run_id);

    expect(runCli(["verify", runA.run_dir]).status).toBe(0);
    const frozen = runCli(["replay", runA.run_dir]);
    expect(frozen.stdout).toContain("IDENTICAL");
    expect(frozen.status).toBe(0);

    // The recording travels in the bundle: imported elsewhere, the run still replays frozen.
    const bundle = join(tempDir(), "run.tar.gz");
    expect(runCli(["export", runA.run_dir, "-o", bundle]).status).toBe(0);
    const elsewhere = tempDir();
    const imported = runCli(["import", bundle, "--artifacts-dir", elsewhere]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(runCli(["replay", join(elsewhere, "runs", runA.run_id)]).status).toBe(0);

    const diff = runCli(["diff", runA.run_dir, runB.run_dir, "--json"]);
    expect(diff.status).toBe(1);
    expect(JSON.parse(diff.stdout).first_layer).toBe("reasoner");

    const [recording] = readdirSync(join(runA.run_dir, "model"));
    const path = join(runA.run_dir, "model", recording as string);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.toString("utf8").replace("The highest card", "The lowest card"));
    const altered = runCli(["replay", runA.run_dir]);
    expect(altered.status).toBe(1);
    expect(altered.stderr).toMatch(
      /error\[E_MODEL_CALL\]: .*model\/[0-9a-f]{64}\.json of the derive step does not hash/,
    );
    expect(isCleanError(altered)).toBe(true);

    rmSync(path);
    const missing = runCli(["replay", runA.run_dir]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /the recorded model call model\/[0-9a-f]{64}\.json of the derive step is missing/,
    );
    const verify = runCli(["verify", runA.run_dir, "--json"]);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain("MODEL_CALL_MISSING");
  });

  it("refuses hostile --base-url, --model, --reasoner and --temperature values (exit 2, one line)", () => {
    const options = {
      corpus: DEMO_CORPUS,
      seed: 0,
      preset: "default",
      maxCorpusBytes: 1,
      maxDocuments: 1,
      maxChunks: 1,
    };
    const llm = { reasoner: "llm", model: "m" };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...llm, baseUrl: "not a url" }, /field "constraints.base_url": must be an http:\/\/ or https:\/\//],
      [{ ...llm, baseUrl: "ftp://127.0.0.1/v1" }, /constraints.base_url/],
      [{ ...llm, baseUrl: "file:///etc/passwd" }, /constraints.base_url/],
      [{ ...llm, baseUrl: "http://127.0.0.1:1/v1?key=x" }, /constraints.base_url/],
      [{ ...llm, baseUrl: "http://127.0.0.1:1/v1#frag" }, /constraints.base_url/],
      [{ ...llm, baseUrl: `http://h/${"a".repeat(3000)}` }, /constraints.base_url/],
      [{ ...llm, model: "" }, /constraints.model/],
      [{ ...llm, model: "m".repeat(300) }, /constraints.model/],
      [{ ...llm, model: "a\u0007b" }, /control characters/],
      [{ reasoner: "llm" }, /the llm reasoner needs a model \(--model NAME\)/],
      [{ reasoner: "oracle" }, /constraints.reasoner/],
      [{ model: "m" }, /model is a setting of the llm reasoner/],
      [{ baseUrl: "http://127.0.0.1/v1" }, /base_url is a setting of the llm reasoner/],
      [{ ...llm, temperature: 3 }, /constraints.temperature/],
      [{ ...llm, minConfidence: 0.5 }, /min_confidence applies to the extractive reasoner only/],
    ];
    for (const [flags, message] of cases) {
      const error = (() => {
        try {
          specFromOptions(QUESTION, { ...options, ...flags } as Parameters<typeof specFromOptions>[1]);
          return null;
        } catch (e) {
          return e as InputError;
        }
      })();
      expect(error, JSON.stringify(flags)).toBeInstanceOf(InputError);
      expect(error?.describe(), JSON.stringify(flags)).toMatch(message);
    }
    // Flag parsing, through the process: one line, exit 2, no stack.
    const base = ["run", QUESTION, "--corpus", DEMO_CORPUS, "--reasoner", "llm", "--model", "m"];
    for (const [flags, message] of [
      [["--temperature", "hot"], /--temperature must be a number/],
      [["--model-timeout", "0"], /--model-timeout must be an integer in \[1, 3600000\]/],
      [["--model-retries", "99"], /--model-retries must be an integer in \[0, 10\]/],
      [["--base-url", "javascript:alert(1)"], /field "constraints.base_url"/],
    ] as Array<[string[], RegExp]>) {
      const result = runCli([...base, ...flags, "--artifacts-dir", tempDir()]);
      expect(result.status, flags.join(" ")).toBe(2);
      expect(result.stderr, flags.join(" ")).toMatch(message);
      expect(isCleanError(result), result.stderr).toBe(true);
      expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
    }
  });

  it("refuses wrong types of the new constraints in a spec file", () => {
    const dir = tempDir();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ reasoner: 1 }, "constraints.reasoner"],
      [{ reasoner: "llm", model: ["m"] }, "constraints.model"],
      [{ reasoner: "llm", model: "m", base_url: 42 }, "constraints.base_url"],
      [{ reasoner: "llm", model: "m", temperature: "0" }, "constraints.temperature"],
    ];
    for (const [constraints, field] of cases) {
      const spec = join(dir, "spec.json");
      writeFileSync(
        spec,
        JSON.stringify({
          version: "1",
          description: QUESTION,
          constraints: { corpus: DEMO_CORPUS, ...constraints },
        }),
      );
      const result = runCli(["run", "--spec", spec, "--artifacts-dir", dir]);
      expect(result.status, field).toBe(2);
      expect(result.stderr, field).toContain(`field "${field}"`);
    }
  });
});
