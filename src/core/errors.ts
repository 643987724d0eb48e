/**
 * Typed errors with stable codes. The CLI maps `exitCode` to the process exit status
 * (docs/design.md §8: 2 bad input, 3 internal); `where` names file, line and field for the user.
 */

/**
 * Every stable error code: the registry. A code outside it does not compile, so a misspelt
 * code cannot reach a user; a test asserts they are unique and each one is used.
 */
export const ERROR_CODES = [
  "E_CANONICAL_JSON",
  "E_INTEGRITY",
  "E_TOOL_FAILED",
  "E_USAGE",
  "E_SPEC_INVALID",
  "E_PLAN_INVALID",
  "E_CORPUS_READ",
  "E_CORPUS_LINE",
  "E_CORPUS_DUPLICATE",
  "E_CORPUS_EMPTY",
  "E_CORPUS_LIMIT",
  "E_NOT_A_RUN",
  "E_RUN_NOT_FOUND",
  "E_INDEX_CORRUPT",
  "E_UNKNOWN_ANALYZER",
  "E_CHUNKING",
  "E_STORE_MISSING",
  "E_SUITE_INVALID",
  "E_BASELINE_INVALID",
  "E_BUNDLE_INVALID",
  "E_EXPORT_TARGET",
  "E_KEY_INVALID",
  "E_ENCODING",
  "E_NOT_A_SNAPSHOT",
  "E_ARTIFACTS_DIR",
  "E_OUTPUT",
  "E_EVAL_INVALID",
  "E_MODEL_ENDPOINT",
  "E_MODEL_CALL",
  "E_REGISTRY_URL",
  "E_REGISTRY_UNAVAILABLE",
  "E_QUEUE_URL",
  "E_QUEUE_UNAVAILABLE",
  "E_JOB_FAILED",
  "E_WORKER_FAULT",
  "E_INDEX_PARAMS_REFUSED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The label of an error without a stable code (a bug: exit 3). */
export const UNTYPED_ERROR = "internal";

/**
 * The stable code an error carries, for spans, metrics and logs: a CanonError's code, an
 * `E_…` code field (the service's HTTP errors), or the `E_…: ` prefix of a failure that
 * crossed the queue as text (a worker fails bad input as "<code>: <message>"); otherwise
 * UNTYPED_ERROR.
 */
export function errorCodeOf(error: unknown): string {
  if (error instanceof CanonError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E_[A-Z_]{1,64}$/.test(code)) return code;
  const message = (error as { message?: unknown } | null)?.message;
  const prefix = typeof message === "string" ? /^(E_[A-Z_]{1,64}): /.exec(message)?.[1] : undefined;
  return prefix !== undefined && (ERROR_CODES as readonly string[]).includes(prefix) ? prefix : UNTYPED_ERROR;
}

export interface ErrorLocation {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
}

export class CanonError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2 | 3;
  readonly where: ErrorLocation;

  constructor(
    code: ErrorCode,
    message: string,
    options: { exitCode?: 1 | 2 | 3; where?: ErrorLocation; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 2;
    this.where = options.where ?? {};
  }

  /** "file:line: field: message", omitting the parts that are unknown. */
  describe(): string {
    const { file, line, field } = this.where;
    const place = [file, line === undefined ? undefined : String(line)]
      .filter((p) => p !== undefined)
      .join(":");
    const parts = [place, field === undefined ? "" : `field "${field}"`].filter((p) => p !== "");
    return parts.length > 0 ? `${parts.join(": ")}: ${this.message}` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.where };
  }
}

/** Bad user input: a spec, a corpus line, a flag, a path. Exit 2. */
export class InputError extends CanonError {
  constructor(code: ErrorCode, message: string, where: ErrorLocation = {}, cause?: unknown) {
    super(code, message, { exitCode: 2, where, cause });
  }
}

/** A value that JSON cannot represent faithfully (undefined, NaN, class instances, ...). */
export class CanonicalJsonError extends CanonError {
  constructor(message: string, path: string) {
    super("E_CANONICAL_JSON", message, { exitCode: 3, where: { field: path } });
  }
}

/** A stored object whose bytes no longer hash to its name. */
export class IntegrityError extends CanonError {
  constructor(message: string, where: ErrorLocation = {}) {
    super("E_INTEGRITY", message, { exitCode: 1, where });
  }
}

/** A tool failed during execution; names the step and tool (docs/design.md §3.2). */
export class ToolFailedError extends CanonError {
  constructor(step: string, tool: string, message: string) {
    super("E_TOOL_FAILED", `step "${step}", tool "${tool}": ${message}`, { exitCode: 2 });
  }
}
