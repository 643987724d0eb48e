/** Helpers every command shares: error reporting, run lookup, artifacts root, progress bars. */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";
import { DATABASE_URL_ENV, registryUrlOf } from "../app/registry.js";
import { DEFAULT_BASE_URL } from "../app/run/model-call.js";
import { DEFAULT_ENDPOINT_SETTINGS, DEFAULT_LIMITS, type EndpointSettings } from "../app/run/run-settings.js";
import { ID_PATTERN, runsRoot } from "../app/store/artifacts.js";
import { CanonError, InputError } from "../core/errors.js";
import { ANALYZERS, isBaseUrl, MAX_BASE_URL } from "../core/models/spec.js";

export const DEFAULT_ARTIFACTS_DIR = ".canon-reason";

export function artifactsRoot(option: string | undefined): string {
  return resolve(option ?? DEFAULT_ARTIFACTS_DIR);
}

/** A run under `<root>/runs/<id>` uses that root's store; elsewhere, the --artifacts-dir one. */
export function storeRootFor(runDir: string, artifactsDir: string | undefined): string {
  return basename(dirname(runDir)) === "runs" ? dirname(dirname(runDir)) : artifactsRoot(artifactsDir);
}

/** Prints a user error as one clear line (no stack) and returns its exit code. */
export function reportError(error: unknown): number {
  if (error instanceof CanonError) {
    process.stderr.write(`canon-reason: error[${error.code}]: ${error.describe()}\n`);
    return error.exitCode;
  }
  const detail = process.env.CANON_REASON_DEBUG ? `\n${(error as Error)?.stack ?? String(error)}` : "";
  process.stderr.write(
    `canon-reason: internal error: ${(error as Error)?.message ?? String(error)}${detail}\n` +
      "This is a bug; set CANON_REASON_DEBUG=1 for a stack trace and report it.\n",
  );
  return 3;
}

/** Wraps a command action: maps thrown errors to exit codes; the action returns its own exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number> | number) {
  return async (...args: A): Promise<void> => {
    try {
      process.exitCode = await fn(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A run directory from a path or a run id under the artifacts root; exit 2 when it is neither. */
export function resolveRunDir(ref: string, artifactsDir: string | undefined): string {
  const candidates =
    ID_PATTERN.test(ref) && !ref.includes("/")
      ? [join(runsRoot(artifactsRoot(artifactsDir)), ref), resolve(ref)]
      : [resolve(ref)];
  for (const dir of candidates) {
    if (!existsSync(dir)) continue;
    if (!statSync(dir).isDirectory()) throw new InputError("E_NOT_A_RUN", "not a directory", { file: dir });
    if (
      !existsSync(join(dir, "run.json")) &&
      !existsSync(join(dir, "manifest.json")) &&
      !existsSync(join(dir, "trace.jsonl"))
    ) {
      throw new InputError("E_NOT_A_RUN", "no run files in it (run.json, manifest.json, trace.jsonl)", {
        file: dir,
      });
    }
    return dir;
  }
  const shown = isAbsolute(ref) ? ref : (candidates[0] ?? ref);
  throw new InputError("E_RUN_NOT_FOUND", "no such run directory or run id", { file: shown });
}

/** The --registry option of every command that publishes or reads runs. */
export function withRegistry(command: Command): Command {
  return command.option(
    "--registry <url>",
    `a shared PostgreSQL registry, postgres://USER@HOST:PORT/DATABASE (default: $${DATABASE_URL_ENV}; none: local files only)`,
  );
}

/** A run to read, and the artifacts root whose store holds what it pins. */
export interface ResolvedRun {
  runDir: string;
  storeRoot: string;
}

/**
 * A run to read. With a shared registry configured, a run id it holds is materialized from it
 * (every object re-hashed) into `<artifacts>/registry-cache` and read there, so a machine that
 * did not make the run can still read it; anything else resolves locally, as `resolveRunDir`.
 */
export async function resolveRun(
  ref: string,
  o: { artifactsDir?: string | undefined; registry?: string | undefined },
): Promise<ResolvedRun> {
  const url = registryUrlOf(o.registry);
  if (url !== undefined && ID_PATTERN.test(ref) && ref.startsWith("run_")) {
    const { openSharedRegistry, registryCacheRoot } = await import("../app/registry.js");
    const registry = await openSharedRegistry(url);
    try {
      const runDir = await registry.materializeRun(ref, registryCacheRoot(artifactsRoot(o.artifactsDir)));
      if (runDir !== null) return { runDir, storeRoot: dirname(dirname(runDir)) };
    } finally {
      await registry.close();
    }
  }
  const runDir = resolveRunDir(ref, o.artifactsDir);
  return { runDir, storeRoot: storeRootFor(runDir, o.artifactsDir) };
}

/** A flag's integer: digits only and exactly representable (at most 2^53 - 1), within bounds. */
export function parseIntOption(name: string, bounds: { min?: number; max?: number } = {}) {
  const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = bounds.min === undefined && bounds.max === undefined ? "" : ` in [${min}, ${max}]`;
      throw new InputError("E_USAGE", `${name} must be an integer${range}, got "${value}"`, { field: name });
    }
    return n;
  };
}

export function parseNumberOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n))
      throw new InputError("E_USAGE", `${name} must be a number, got "${value}"`, { field: name });
    return n;
  };
}

/** A flag's OpenAI-style base URL: http(s), a host, no query, fragment or control character, bounded. */
export function parseBaseUrlOption(name: string) {
  return (value: string): string => {
    if (value.length > MAX_BASE_URL || /\p{Cc}/u.test(value) || !isBaseUrl(value))
      throw new InputError(
        "E_USAGE",
        `must be an http:// or https:// URL of at most ${MAX_BASE_URL} characters, without a query or fragment, e.g. http://127.0.0.1:11434/v1`,
        { field: name },
      );
    return value;
  };
}

/** The llm reasoner's call flags `run` and `eval` share: sampling, time limit and retries. */
export function withModelCallFlags(command: Command): Command {
  return withEndpointFlags(
    command.option(
      "--temperature <x>",
      "llm: sampling temperature, 0-2 (default 0)",
      parseNumberOption("--temperature"),
    ),
  );
}

/** How the llm endpoint is called (`run`, `eval` and `worker`): one attempt's time limit and retries. */
export function withEndpointFlags(command: Command): Command {
  return command
    .option(
      "--model-timeout <ms>",
      "llm: time limit of one request in milliseconds",
      parseIntOption("--model-timeout", { min: 1, max: 3_600_000 }),
      DEFAULT_ENDPOINT_SETTINGS.timeoutMs,
    )
    .option(
      "--model-retries <n>",
      "llm: retries after a timeout, 429 or 5xx (waits doubling from 0.5 s, at most 8 s each)",
      parseIntOption("--model-retries", { min: 0, max: 10 }),
      DEFAULT_ENDPOINT_SETTINGS.maxRetries,
    );
}

/** The analyzer names `--analyzer` takes. */
const ANALYZER_NAMES = ANALYZERS.join(" or ");

/**
 * The spec constraints `run` sets and `eval` overrides, one flag each: [flag, parser, what `run`
 * says, what `eval` says]. Declared once, so the two commands cannot drift apart.
 */
const CONSTRAINT_FLAGS: ReadonlyArray<
  readonly [string, ((value: string) => number) | undefined, string, string]
> = [
  ["--top-k <n>", parseIntOption("--top-k"), "chunks to retrieve", "override top-k"],
  [
    "--analyzer <name>",
    undefined,
    "tokenizer: english (stop words + stemming) or simple",
    `override the analyzer: ${ANALYZER_NAMES}`,
  ],
  ["--k1 <x>", parseNumberOption("--k1"), "BM25 k1", "override BM25 k1"],
  ["--b <x>", parseNumberOption("--b"), "BM25 b", "override BM25 b"],
  [
    "--min-confidence <x>",
    parseNumberOption("--min-confidence"),
    "below this confidence (0-1; default 0.3, a probability: docs/eval.md lists operating points) the answer is insufficient evidence",
    "override the confidence below which an answer is insufficient (0-1; 0 answers, and so judges, every case for calibration)",
  ],
  [
    "--chunk-chars <n>",
    parseIntOption("--chunk-chars"),
    "chunk window in characters",
    "override the chunk window",
  ],
  [
    "--overlap-chars <n>",
    parseIntOption("--overlap-chars"),
    "overlap between chunk windows",
    "override the chunk overlap",
  ],
];

/** The spec-constraint flags of `run` ("set") and `eval` ("override"): retrieval, index and reasoner. */
export function withConstraintFlags(command: Command, mode: "set" | "override"): Command {
  for (const [flag, parse, set, override] of CONSTRAINT_FLAGS)
    if (parse === undefined) command.option(flag, mode === "set" ? set : override);
    else command.option(flag, mode === "set" ? set : override, parse);
  return command
    .option("--index-titles", "index document titles with every chunk (the default)")
    .option("--no-index-titles", "do not index document titles")
    .option(
      "--reasoner <name>",
      mode === "set"
        ? "extractive (the default) or llm (an OpenAI-compatible chat model)"
        : "override the reasoner: extractive or llm",
    )
    .option(
      "--model <name>",
      mode === "set"
        ? "llm: the model name the endpoint serves (part of the run id)"
        : "llm: the model name the endpoint serves",
    )
    .option(
      "--base-url <url>",
      mode === "set"
        ? `llm: the endpoint's OpenAI-style base URL, ending in /v1 (default ${DEFAULT_BASE_URL}); key from CANON_REASON_LLM_API_KEY or OPENAI_API_KEY`
        : "llm: the endpoint's OpenAI-style base URL, ending in /v1",
    );
}

/** What the constraint flags (and --temperature) were given as, under the spec's constraint names. */
export interface ConstraintFlagValues {
  topK?: number;
  analyzer?: string;
  k1?: number;
  b?: number;
  minConfidence?: number;
  chunkChars?: number;
  overlapChars?: number;
  indexTitles?: boolean;
  reasoner?: string;
  model?: string;
  baseUrl?: string;
  temperature?: number;
}

/**
 * The constraints the flags set, in the spec's names; flags not given are left out. In this
 * order: eval's summary.json records them as given.
 */
export function constraintsFromFlags(o: ConstraintFlagValues): Record<string, unknown> {
  const named: Array<[string, unknown]> = [
    ["analyzer", o.analyzer],
    ["top_k", o.topK],
    ["bm25_k1", o.k1],
    ["bm25_b", o.b],
    ["chunk_chars", o.chunkChars],
    ["overlap_chars", o.overlapChars],
    ["min_confidence", o.minConfidence],
    ["index_titles", o.indexTitles],
    ["reasoner", o.reasoner],
    ["model", o.model],
    ["base_url", o.baseUrl],
    ["temperature", o.temperature],
  ];
  return Object.fromEntries(named.filter(([, value]) => value !== undefined));
}

/** The corpus limit options every command that reads a corpus shares. */
export function withCorpusLimits(command: Command): Command {
  return command
    .option(
      "--max-corpus-bytes <n>",
      "refuse corpora with more text bytes",
      parseIntOption("--max-corpus-bytes"),
      DEFAULT_LIMITS.max_bytes,
    )
    .option(
      "--max-documents <n>",
      "refuse corpora with more documents",
      parseIntOption("--max-documents"),
      DEFAULT_LIMITS.max_documents,
    )
    .option(
      "--max-chunks <n>",
      "refuse corpora with more chunks",
      parseIntOption("--max-chunks"),
      DEFAULT_LIMITS.max_chunks,
    );
}

/** The llm endpoint settings from --model-timeout and --model-retries. */
export function endpointSettings(timeoutMs?: number, maxRetries?: number): EndpointSettings {
  return {
    ...DEFAULT_ENDPOINT_SETTINGS,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxRetries === undefined ? {} : { maxRetries }),
  };
}
