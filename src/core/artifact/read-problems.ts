/**
 * What the run reader meets while parsing a run's files, as data: a stable code with typed
 * parameters. The verifier reports these under its `schemas` check; `inspect`, `diff` and
 * replay refuse a run that has them. Codes never change meaning.
 */

export interface ReadProblemParams {
  FILE_MISSING: { path: string };
  NOT_UTF8: { path: string };
  INVALID_JSON: { path: string; line?: number };
  TRACE_UNTERMINATED: { path: string };
  SCHEMA_VIOLATION: { path: string; line?: number; field: string; problem: string };
  UNSUPPORTED_VERSION: { path: string; line?: number; field: string; found: string; supported: string };
  NOT_CANONICAL: { path: string; line?: number };
}

export type ReadProblemCode = keyof ReadProblemParams;

export type ReadProblem = {
  [C in ReadProblemCode]: { code: C; params: ReadProblemParams[C] };
}[ReadProblemCode];

export function readProblem<C extends ReadProblemCode>(code: C, params: ReadProblemParams[C]): ReadProblem {
  // TypeScript cannot correlate a generic code with its union member; the signature does.
  return { code, params } as ReadProblem;
}

const at = (p: { path: string; line?: number }) =>
  p.line === undefined ? p.path : `${p.path} line ${p.line}`;

/** English for each problem; the verifier's messages include these, so wording lives in one place. */
export const READ_PROBLEM_MESSAGES: { [C in ReadProblemCode]: (p: ReadProblemParams[C]) => string } = {
  FILE_MISSING: (p) => `${p.path} is missing`,
  NOT_UTF8: (p) => `${p.path} is not valid UTF-8`,
  INVALID_JSON: (p) => `${at(p)} is not valid JSON`,
  TRACE_UNTERMINATED: (p) => `${p.path} does not end with a newline`,
  SCHEMA_VIOLATION: (p) => `${at(p)}: ${p.field === "" ? "" : `${p.field}: `}${p.problem}`,
  UNSUPPORTED_VERSION: (p) =>
    `${at(p)}: ${p.field} ${p.found} is not a supported version (this verifier reads ${p.supported})`,
  NOT_CANONICAL: (p) =>
    p.line === undefined
      ? `${p.path} is not canonical JSON followed by one newline`
      : `${at(p)} is not canonical JSON`,
};

export function renderReadProblem(p: ReadProblem): string {
  // The union member guarantees `params` fits `code`; indexing by a union loses that link.
  return (READ_PROBLEM_MESSAGES[p.code] as (params: ReadProblem["params"]) => string)(p.params);
}
