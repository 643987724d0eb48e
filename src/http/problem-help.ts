/**
 * What each HTTP-only problem code means, its status and what a client does about it: the
 * source of the HTTP part of the error catalogue (docs/errors.md). The CLI's codes keep their
 * meaning over HTTP; their status follows statusOfCode (problem.ts).
 */
import type { HttpErrorCode } from "./problem.js";

export interface ProblemHelp {
  readonly status: readonly number[];
  readonly meaning: string;
  readonly action: string;
}

export const PROBLEM_HELP: { readonly [C in HttpErrorCode]: ProblemHelp } = {
  E_HTTP_BAD_REQUEST: {
    status: [400],
    meaning:
      "the request cannot be read: a body that is not JSON, an empty body, a bad Content-Length, a URL that does not decode",
    action: "send a well-formed JSON body with `content-type: application/json`",
  },
  E_HTTP_VALIDATION: {
    status: [400],
    meaning:
      "the body, query or path parameters do not match the route's schema (unknown field, wrong type, out of range); `issues` lists each field",
    action: "fix the fields named in `issues`; docs/openapi.json has every schema",
  },
  E_HTTP_UNAUTHORIZED: {
    status: [401],
    meaning: "the service has a token (`CANON_REASON_TOKEN`) and the request carries none, or another one",
    action: "send `Authorization: Bearer <token>`",
  },
  E_HTTP_RATE_LIMITED: {
    status: [429],
    meaning:
      "more requests in a minute than `--rate-limit` allows for this token (or address); `Retry-After` says when to retry",
    action: "wait `retry_after` seconds; raise `serve --rate-limit` if the load is legitimate",
  },
  E_HTTP_BODY_TOO_LARGE: {
    status: [413],
    meaning:
      "the body is larger than `--body-limit` (JSON) or `--upload-limit` (corpus uploads), counted on the bytes read",
    action: "send less, or raise the limit on `serve`",
  },
  E_HTTP_MEDIA_TYPE: {
    status: [415],
    meaning: "the body's content type is not JSON (or, for `POST /v1/corpora`, not JSONL)",
    action: "send `content-type: application/json` (`application/x-ndjson` for corpora)",
  },
  E_HTTP_NOT_FOUND: {
    status: [404],
    meaning: "no such route, job or evidence file (or `/v1/jobs` on a service without `--queue`)",
    action: "check the path against docs/openapi.json",
  },
  E_HTTP_URI_TOO_LONG: {
    status: [414],
    meaning: "a path parameter is longer than any valid id",
    action: "send a valid run, item or job id",
  },
  E_CORPUS_PATH: {
    status: [400, 404],
    meaning:
      "a spec's corpus is absolute or contains `..` (400), or names nothing under the `--corpus-root` folders or in the store (404)",
    action: "name a path relative to a corpus root, or a `sha256:` snapshot from `POST /v1/corpora`",
  },
  E_CORPUS_FORBIDDEN: {
    status: [403],
    meaning: "the corpus path leads out of its corpus root (through a symlink)",
    action: "name a corpus inside a corpus root; the operator decides what is served",
  },
  E_ITEM_NOT_FOUND: {
    status: [404],
    meaning: "no saved item (or no such version of it) by that id",
    action: "list items with `GET /v1/items`",
  },
  E_HTTP_INTERNAL: {
    status: [500],
    meaning: "an error without a stable code: a bug; the server log has the details",
    action: "report it with the server's log line for the request",
  },
  E_HTTP_METHOD_NOT_ALLOWED: {
    status: [405],
    meaning: "the path exists but not with this method; the `Allow` header lists the methods it takes",
    action: "use a method from `Allow` (docs/openapi.json lists every route)",
  },
  E_HTTP_HEADERS_TOO_LARGE: {
    status: [431],
    meaning: "the request's headers are larger than the server accepts",
    action: "send fewer or shorter headers (a bearer token is well under the limit)",
  },
  E_HTTP_TIMEOUT: {
    status: [408],
    meaning: "the request was not received in time (a client that stalls mid-request)",
    action: "send the whole request promptly; check the client or proxy in between",
  },
  E_HTTP_BUSY: {
    status: [503],
    meaning:
      "`serve --max-uploads` corpus uploads are already being received; `Retry-After` says when to retry",
    action: "retry after `Retry-After` seconds; an operator can raise `serve --max-uploads`",
  },
};
