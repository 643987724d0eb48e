/**
 * Errors at the HTTP boundary as RFC 9457 `application/problem+json`, handled in one place.
 * Every problem carries a stable `type` derived from its code: the CLI's codes (ERROR_CODES)
 * and a few that only HTTP has (auth, rate limit, media type, ...). Status follows the CLI's
 * exit code: 2 bad input -> 4xx, 1 a failed check -> 409, 3 internal -> 500; a service that
 * does not answer (registry, queue) -> 503.
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { CanonError, type ErrorCode } from "../core/errors.js";

export const HTTP_ERROR_CODES = [
  "E_HTTP_BAD_REQUEST",
  "E_HTTP_VALIDATION",
  "E_HTTP_UNAUTHORIZED",
  "E_HTTP_RATE_LIMITED",
  "E_HTTP_BODY_TOO_LARGE",
  "E_HTTP_MEDIA_TYPE",
  "E_HTTP_NOT_FOUND",
  "E_HTTP_URI_TOO_LONG",
  "E_CORPUS_PATH",
  "E_CORPUS_FORBIDDEN",
  "E_ITEM_NOT_FOUND",
  "E_HTTP_INTERNAL",
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

export const PROBLEM_TYPE_PREFIX = "urn:canon-reason:problem:";
export const problemType = (code: ErrorCode | HttpErrorCode) => `${PROBLEM_TYPE_PREFIX}${code}`;

/** A status-carrying error for what only HTTP can get wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [key: string]: unknown;
}

/** CLI error codes whose HTTP status is more precise than 400. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  E_RUN_NOT_FOUND: 404,
  // A published run the reader cannot make sense of is the server's state, not the client's
  // input: a verdict about the run (409), as an integrity failure is.
  E_NOT_A_RUN: 409,
  E_CORPUS_LIMIT: 413,
  // The shared registry did not answer: try again later (the process reconnects by itself).
  E_REGISTRY_UNAVAILABLE: 503,
  E_QUEUE_UNAVAILABLE: 503,
  // A model endpoint that fails is the server's upstream, not the client's input.
  E_MODEL_ENDPOINT: 502,
};

/** The HTTP status of a CLI error code raised with an exit code (the error catalogue lists these). */
export function statusOfCode(code: ErrorCode, exitCode: 1 | 2 | 3): number {
  return STATUS_OF[code] ?? (exitCode === 3 ? 500 : exitCode === 1 ? 409 : 400);
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return {
    type: `${PROBLEM_TYPE_PREFIX}${code}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
    ...extra,
  };
}

/** Fastify's own client errors, by their code. */
const FASTIFY_CODES: Record<string, [number, HttpErrorCode]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, "E_HTTP_BODY_TOO_LARGE"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, "E_HTTP_MEDIA_TYPE"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, "E_HTTP_BAD_REQUEST"],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, "E_HTTP_BAD_REQUEST"],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, "E_HTTP_BAD_REQUEST"],
};

export function toProblem(error: unknown): Problem {
  if (error instanceof HttpError) return problem(error.status, error.code, error.message, error.extra);
  if (error instanceof CanonError) {
    // Absolute server paths are not the client's business: name the file by its last part.
    const { file, ...where } = error.where;
    const shown = file === undefined ? {} : { file: file.split(/[\\/]/).slice(-2).join("/") };
    const status = statusOfCode(error.code, error.exitCode);
    return problem(status, error.code, error.message, { ...where, ...shown });
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      field: [error.validationContext, ...v.instancePath.split("/").filter((p) => p !== "")].join("."),
      message: v.message,
    }));
    return problem(400, "E_HTTP_VALIDATION", issues.map((i) => `${i.field}: ${i.message}`).join("; "), {
      issues,
    });
  }
  const fe = error as Partial<FastifyError>;
  const known = fe.code === undefined ? undefined : FASTIFY_CODES[fe.code];
  if (known !== undefined) return problem(known[0], known[1], fe.message ?? "bad request");
  // SyntaxError from JSON.parse comes with statusCode 400 as well.
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500)
    return problem(fe.statusCode, "E_HTTP_BAD_REQUEST", fe.message ?? "bad request");
  return problem(500, "E_HTTP_INTERNAL", "internal error; the server log has the details");
}

export function installProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    let body: Problem;
    try {
      body = toProblem(error);
    } catch (mapping) {
      request.log.error({ err: mapping }, "could not map an error to a problem");
      body = problem(500, "E_HTTP_INTERNAL", "internal error; the server log has the details");
    }
    if (body.status >= 500) request.log.error({ err: error }, "request failed");
    if (body.status === 429 && typeof body.retry_after === "number")
      reply.header("retry-after", String(body.retry_after));
    return reply.code(body.status).type("application/problem+json").send(JSON.stringify(body));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type("application/problem+json")
      .send(
        JSON.stringify(
          problem(404, "E_HTTP_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
        ),
      ),
  );
}

/**
 * Errors Fastify raises before routing (a URL that does not decode, a parameter over the
 * length limit): problem+json too, without echoing the URL back.
 */
export function frameworkProblem(error: FastifyError): Problem {
  return error.code === "FST_ERR_MAX_PARAM_LENGTH"
    ? problem(414, "E_HTTP_URI_TOO_LONG", "a path parameter is longer than any valid id")
    : problem(400, "E_HTTP_BAD_REQUEST", "the URL does not decode");
}
