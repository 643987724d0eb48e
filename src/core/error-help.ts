/**
 * What each stable error code means and what a user does about it: the source of the error
 * catalogue (docs/errors.md, written by `npm run docs:errors`). The mapped type makes a code
 * without an entry a compile error; test/docs/errors.test.ts fails when docs/errors.md is stale.
 */
import type { ErrorCode } from "./errors.js";

export interface ErrorHelp {
  /** What went wrong, in a sentence. */
  readonly meaning: string;
  /** The exit codes the CLI gives with this code (1 a failed check, 2 bad input, 3 internal or unavailable). */
  readonly exit: readonly (1 | 2 | 3)[];
  /** What to do about it. */
  readonly action: string;
}

export const ERROR_HELP: { readonly [C in ErrorCode]: ErrorHelp } = {
  E_CANONICAL_JSON: {
    meaning:
      "a value cannot be written as canonical JSON (RFC 8785): NaN, Infinity, undefined or a class instance reached an artifact",
    exit: [3],
    action: "a bug: rerun with CANON_REASON_DEBUG=1 for a stack trace and report it",
  },
  E_INTEGRITY: {
    meaning:
      "a stored object (store file, registry row, bundle member) no longer hashes to the name it is stored under",
    exit: [1],
    action:
      "delete that object under `.canon-reason/store/` (the next run rebuilds it from the corpus), or republish the run from a machine that holds it; treat a tampered registry row as an incident",
  },
  E_TOOL_FAILED: {
    meaning: "a tool of the plan failed while the run executed; the message names the step and the tool",
    exit: [2],
    action: "read the tool's message (usually a corpus or parameter problem) and fix the input",
  },
  E_USAGE: {
    meaning:
      "a flag or argument is missing, malformed or not allowed in this combination (the message names the flag)",
    exit: [2],
    action: "read `canon-reason <command> --help` and fix the command line",
  },
  E_SPEC_INVALID: {
    meaning:
      "a spec field is invalid, a constraint name is unknown, or two constraints contradict each other (file and field named)",
    exit: [2],
    action: "fix the field; unknown constraints are never ignored",
  },
  E_PLAN_INVALID: {
    meaning: "a plan is not a valid DAG, or a plan node's parameter has the wrong type",
    exit: [2],
    action: "fix the plan (node ids unique, dependencies exist, no cycle), or let the planner make it",
  },
  E_CORPUS_READ: {
    meaning: "the corpus path is missing, unreadable, not a regular file or folder, or a line is not JSON",
    exit: [2],
    action: "check the path given to `--corpus` (or the spec's `corpus`) and its permissions",
  },
  E_CORPUS_LINE: {
    meaning:
      "one or more JSONL corpus lines lack a field or have one of the wrong type (each bad line listed, up to 20)",
    exit: [2],
    action: "fix those lines; nothing was written",
  },
  E_CORPUS_DUPLICATE: {
    meaning: "two documents of the corpus share a `doc_id` (the first occurrence is named)",
    exit: [2],
    action: "make the ids unique",
  },
  E_CORPUS_EMPTY: {
    meaning: "the corpus holds no `.txt`/`.md` files or JSONL documents",
    exit: [2],
    action: "point `--corpus` at the folder or file that holds the documents",
  },
  E_CORPUS_LIMIT: {
    meaning: "the corpus exceeds `--max-corpus-bytes`, `--max-documents` or `--max-chunks` (HTTP 413)",
    exit: [2],
    action: "raise the limit deliberately; the limits are recorded in the run's provenance",
  },
  E_NOT_A_RUN: {
    meaning: "the path is not a run directory, or a run's files cannot be read well enough to use it",
    exit: [1, 2],
    action:
      "point the command at `runs/<run_id>` or a run id; run `canon-reason verify` on a run that no longer reads",
  },
  E_RUN_NOT_FOUND: {
    meaning: "no run directory or run id by that name under the artifacts root (HTTP 404)",
    exit: [2],
    action: "check the id and `--artifacts-dir`; import the run's bundle if it was made elsewhere",
  },
  E_INDEX_CORRUPT: {
    meaning:
      "a stored BM25 index does not parse or fails its checks, or was written by a newer canon-reason (format named)",
    exit: [1],
    action:
      "delete the index object under `.canon-reason/store/` (the next run rebuilds it); an index from a newer version needs that version",
  },
  E_UNKNOWN_ANALYZER: {
    meaning: "the `analyzer` constraint names an analyzer this build does not have",
    exit: [2],
    action: "use `english` or `simple`",
  },
  E_CHUNKING: {
    meaning: "the chunking parameters cannot work (e.g. `overlap_chars` not below `chunk_chars`)",
    exit: [2],
    action: "fix `chunk_chars` / `overlap_chars`",
  },
  E_STORE_MISSING: {
    meaning:
      "a spec, replay or job needs a corpus snapshot (`sha256:...`) that this artifacts root (or the registry) does not hold",
    exit: [2],
    action: "run against the corpus path once, or import the run's bundle into this artifacts root",
  },
  E_SUITE_INVALID: {
    meaning:
      "an eval suite (`suite.json`, `problems.jsonl`) or BEIR file is invalid; file, line and field named",
    exit: [2],
    action: "fix the line; see docs/eval.md for the format",
  },
  E_BASELINE_INVALID: {
    meaning: "`eval --baseline` was given a file that is not a `summary.json`, or one of another suite",
    exit: [2],
    action: "give the `summary.json` of an earlier eval of the same suite",
  },
  E_BUNDLE_INVALID: {
    meaning:
      "`import` was given a file that is not a canon-reason bundle, or a bundle with a bad entry (path, type, size, hash)",
    exit: [2],
    action: "make the bundle again with `canon-reason export`; never unpack or edit a bundle by hand",
  },
  E_EXPORT_TARGET: {
    meaning: "`export -o` names a folder, a FIFO, a device or a place that cannot be written",
    exit: [2],
    action: "give a file name in a folder you can write",
  },
  E_KEY_INVALID: {
    meaning: "a key file given to `--sign` or `--pubkey` is unreadable or not an Ed25519 PEM key",
    exit: [2],
    action: "make a pair with `canon-reason keygen --out DIR` and pass its files",
  },
  E_ENCODING: {
    meaning:
      "a text input is not UTF-8 (file, line and byte offset named), or a string holds a lone surrogate",
    exit: [2],
    action: "re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
  },
  E_NOT_A_SNAPSHOT: {
    meaning: "a `sha256:` corpus names a store object that is not a corpus snapshot",
    exit: [2],
    action: "use the snapshot hash `canon-reason index` prints, not the index hash",
  },
  E_ARTIFACTS_DIR: {
    meaning: "`--artifacts-dir` is a file, or cannot be created or written",
    exit: [2],
    action: "point it at a folder you can write",
  },
  E_OUTPUT: {
    meaning:
      "an output target (`--out`, `-o`, `--target`) is a folder where a file is needed, or cannot be written",
    exit: [2],
    action: "point it at a place you can write",
  },
  E_EVAL_INVALID: {
    meaning:
      "`report --eval` or `--baseline` was given a folder that is not an `eval` output, or one of its lines was edited",
    exit: [2],
    action: "point it at the folder `eval --out` wrote; rerun the eval to restore a damaged file",
  },
  E_MODEL_ENDPOINT: {
    meaning:
      "the model endpoint failed: unreachable, credentials refused or 404 (exit 2); timeouts, 429 or 5xx after the retries (exit 3, HTTP 502); or not this worker's endpoint",
    exit: [2, 3],
    action:
      "start the server or fix `--base-url`/`--model`; set `CANON_REASON_LLM_API_KEY`; raise `--model-timeout`/`--model-retries` or lower `--max-rps`",
  },
  E_MODEL_CALL: {
    meaning:
      "a run's recorded model call (`model/<sha256>.json`) is missing or altered, so it cannot be replayed",
    exit: [1],
    action: "restore the run from its bundle; a run without its recording cannot be re-derived",
  },
  E_REGISTRY_URL: {
    meaning:
      "`--registry` / `CANON_REASON_DATABASE_URL` is not a `postgres://` URL naming a host and a database, or the server refused it",
    exit: [2],
    action: "fix the URL: `postgres://USER@HOST:PORT/DATABASE`",
  },
  E_REGISTRY_UNAVAILABLE: {
    meaning: "the PostgreSQL server named by the registry URL does not answer (HTTP 503)",
    exit: [3],
    action:
      "start it or fix the host and port; unset the variable to work locally. A running `serve` or worker reconnects by itself",
  },
  E_QUEUE_URL: {
    meaning: "`--queue` / `CANON_REASON_QUEUE_URL` is not a `redis://HOST:PORT[/DB]` URL",
    exit: [2],
    action: "fix the URL",
  },
  E_QUEUE_UNAVAILABLE: {
    meaning: "Redis does not answer at the queue URL (HTTP 503 for `Prefer: respond-async`)",
    exit: [3],
    action: "start Redis or fix the URL; synchronous runs do not need it",
  },
  E_JOB_FAILED: {
    meaning:
      "a queued job failed 3 times (or vanished from the queue); the reason is in the message and BullMQ's failed list",
    exit: [3],
    action: "fix the cause (see the workers' JSON logs), then submit again: the failed job is retried",
  },
  E_WORKER_FAULT: {
    meaning:
      "a queue worker stopped after 5 faults of its own in a row (its artifacts dir read-only or full, its model endpoint refusing connections); the jobs went back to the queue",
    exit: [3],
    action:
      "fix the worker's disk or endpoint (its last log lines and `GET /readyz` name the fault), then start it again; other workers keep taking the jobs",
  },
  E_INDEX_PARAMS_REFUSED: {
    meaning:
      "the service refused to build an index with this parameter set for this corpus: it is neither a preset nor in `serve --index-params`, and the corpus already has `--index-quota` other sets (HTTP 403)",
    exit: [2],
    action:
      "use a preset or an allowed parameter set; an operator can allow the set with `serve --index-params k=v,...` or raise `--index-quota`",
  },
};
