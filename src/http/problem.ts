/**
 * Errors at the HTTP boundary as RFC 9457 `application/problem+json`, handled in one place.
 * Every problem carries a stable `type` derived from its code: the CLI's codes (ERROR_CODES)
 * and a few that only HTTP has (auth, rate limit, media type, ...). Status follows the CLI's
 * exit code: 2 bad input -> 4xx, 1 a failed check -> 409, 3 internal -> 500; a service that
 * does not answer (registry, queue) -> 503.
 */
import type { Socket } from "node:net";
import { isAbsolute, relative, sep } from "node:path";
import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
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
  "E_HTTP_METHOD_NOT_ALLOWED",
  "E_HTTP_HEADERS_TOO_LARGE",
  "E_HTTP_TIMEOUT",
  "E_HTTP_BUSY",
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
    readonly code: HttpErrorCode | ErrorCode,
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
  // The operator's policy on index parameter sets (serve --index-params / --index-quota).
  E_INDEX_PARAMS_REFUSED: 403,
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
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
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

/**
 * How a server path is shown to a client (issue 21, item 9): relative to the folder it lies in
 * (a corpus root: `corpus/bad.jsonl`; an upload's staging folder: the upload's name), never
 * absolute. `roots` pairs each absolute folder with the prefix shown in its place ("" for a
 * corpus root). A path under no known folder is shown by its last part.
 */
export interface PathRoot {
  abs: string;
  shown: string;
}

export function showPath(path: string, roots: readonly PathRoot[]): string {
  for (const root of roots) {
    if (path === root.abs) return root.shown === "" ? "." : root.shown;
    if (path.startsWith(root.abs + sep)) {
      const rest = relative(root.abs, path).split(sep).join("/");
      return root.shown === "" ? rest : `${root.shown}/${rest}`;
    }
  }
  return isAbsolute(path) ? (path.split(/[\\/]/).pop() ?? "") : path;
}

/** Every occurrence of a known absolute folder in free text, replaced as `showPath` would. */
export function scrubText(text: string, roots: readonly PathRoot[]): string {
  let out = text;
  // Longest first: a staging folder inside the artifacts root is matched before the root.
  for (const root of [...roots].sort((a, b) => b.abs.length - a.abs.length)) {
    out = out.split(root.abs + sep).join(root.shown === "" ? "" : `${root.shown}/`);
    out = out.split(root.abs).join(root.shown === "" ? "." : root.shown);
  }
  return out;
}

export function toProblem(error: unknown, roots: readonly PathRoot[] = []): Problem {
  if (error instanceof HttpError)
    return problem(error.status, error.code, scrubText(error.message, roots), error.extra);
  if (error instanceof CanonError) {
    // Absolute server paths are not the client's business (item 9).
    const { file, ...where } = error.where;
    const shown = file === undefined ? {} : { file: showPath(file, roots) };
    const status = statusOfCode(error.code, error.exitCode);
    return problem(status, error.code, scrubText(error.message, roots), { ...where, ...shown });
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

/** The problem code a request was answered with, for the metrics (item 5). */
const answeredCodes = new WeakMap<FastifyRequest, string>();
export const problemCodeOf = (request: FastifyRequest): string | undefined => answeredCodes.get(request);

/** `/v1/runs/:id` as a pattern matching `/v1/runs/<anything but a slash>`. */
const routePattern = (url: string) =>
  new RegExp(
    `^${url
      .split("/")
      .map((p) => (p.startsWith(":") ? "[^/]+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/")}$`,
  );

export interface ProblemOptions {
  /** Folders whose absolute paths are never shown to a client (see `showPath`). */
  pathRoots?: () => readonly PathRoot[];
}

export function installProblemHandler(app: FastifyInstance, options: ProblemOptions = {}): void {
  const roots = options.pathRoots ?? (() => []);
  // Every route's methods, so a known path with another method is 405 with Allow, not 404 (item 8).
  const routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  app.addHook("onRoute", (route) => {
    const pattern = routePattern(route.url);
    const methods = [route.method].flat();
    const found = routes.find((r) => r.pattern.source === pattern.source);
    if (found === undefined) routes.push({ pattern, methods: new Set(methods) });
    else for (const m of methods) found.methods.add(m);
  });
  app.setErrorHandler((error, request, reply) => {
    let body: Problem;
    try {
      body = toProblem(error, roots());
    } catch (mapping) {
      request.log.error({ err: mapping }, "could not map an error to a problem");
      body = problem(500, "E_HTTP_INTERNAL", "internal error; the server log has the details");
    }
    if (body.status >= 500) request.log.error({ err: error }, "request failed");
    if ((body.status === 429 || body.status === 503) && typeof body.retry_after === "number")
      reply.header("retry-after", String(body.retry_after));
    if (body.status === 401) reply.header("www-authenticate", 'Bearer realm="canon-reason"');
    answeredCodes.set(request, body.code);
    return reply.code(body.status).type("application/problem+json").send(JSON.stringify(body));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    const allowed = new Set<string>();
    for (const route of routes) if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(", ");
      answeredCodes.set(request, "E_HTTP_METHOD_NOT_ALLOWED");
      return reply
        .code(405)
        .header("allow", allow)
        .type("application/problem+json")
        .send(
          JSON.stringify(
            problem(
              405,
              "E_HTTP_METHOD_NOT_ALLOWED",
              `${request.method} is not allowed on ${path}: ${allow}`,
            ),
          ),
        );
    }
    answeredCodes.set(request, "E_HTTP_NOT_FOUND");
    return reply
      .code(404)
      .type("application/problem+json")
      .send(JSON.stringify(problem(404, "E_HTTP_NOT_FOUND", `no route ${request.method} ${path}`)));
  });
}

/**
 * Node's `clientError` (malformed HTTP framing, headers too large, a request that timed out):
 * answered as problem+json too, on the raw socket since no request exists (item 8).
 */
export function clientErrorResponse(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, detail]: [number, HttpErrorCode, string] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "E_HTTP_TIMEOUT", "the request was not received in time"]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "E_HTTP_HEADERS_TOO_LARGE", "the request headers are too large"]
        : [400, "E_HTTP_BAD_REQUEST", "the request is not well-formed HTTP/1.1"];
  const body = JSON.stringify(problem(status, code, detail));
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${TITLES[status] ?? "Error"}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(error);
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
