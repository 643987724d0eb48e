/**
 * Issue 22, item 1: which failures are a worker's own. Generated over every errno the
 * classifier knows (the class, not a list), plus the named cases of the issue.
 */
import { describe, expect, it } from "vitest";
import { CanonError, InputError } from "../../src/core/errors.js";
import { fsInputError } from "../../src/io/fs/fs-errors.js";
import { CONNECTION_FAULTS, DISK_FAULTS, localFaultOf } from "../../src/queue/local-fault.js";

const errno = (code: string, path?: string) =>
  Object.assign(new Error(`${code}: failed`), { code, ...(path === undefined ? {} : { path }) });
const artifacts = (cause: unknown) =>
  fsInputError(cause, {
    code: "E_ARTIFACTS_DIR",
    doing: "cannot write artifacts",
    path: "/w",
    field: "--artifacts-dir",
  });
/** As the endpoint layer throws it: the SDK's connection error, its fetch error, the socket's errno. */
const endpointError = (code: string) =>
  new CanonError("E_MODEL_ENDPOINT", `model endpoint http://m/v1 cannot be reached (${code}) (1 attempt)`, {
    exitCode: 2,
    cause: Object.assign(new Error("Connection error."), {
      cause: Object.assign(new TypeError("fetch failed"), { cause: errno(code) }),
    }),
  });

describe("localFaultOf", () => {
  for (const code of DISK_FAULTS) {
    it(`${code} under the worker's artifacts dir, raw or as E_ARTIFACTS_DIR, is a disk fault naming the errno and path`, () => {
      for (const error of [errno(code, "/w/store/x"), artifacts(errno(code, "/w/store/x"))]) {
        const fault = localFaultOf(error);
        expect(fault?.kind).toBe("disk");
        expect(fault?.what).toContain(`(${code})`);
        expect(fault?.what).toContain("/w/store/x");
      }
    });
  }
  for (const code of CONNECTION_FAULTS)
    it(`the worker's model endpoint failing with ${code} is an endpoint fault`, () => {
      expect(localFaultOf(endpointError(code))).toEqual({
        kind: "model_endpoint",
        what: `the model endpoint cannot be reached (${code})`,
      });
    });

  it("the job's own failures are not the worker's: bad input, a refused request, integrity, a lost file, the registry's connection", () => {
    for (const error of [
      new InputError("E_SPEC_INVALID", "bad spec"),
      new CanonError("E_MODEL_ENDPOINT", "model endpoint refused the credentials (HTTP 401)", {
        exitCode: 2,
      }),
      new CanonError("E_MODEL_ENDPOINT", "model endpoint failed with HTTP 500 (3 attempts)", { exitCode: 3 }),
      new CanonError("E_INTEGRITY", "corrupt", { exitCode: 1 }),
      artifacts(errno("ENOENT", "/w/x")),
      // ECONNREFUSED from PostgreSQL or Redis is not the model endpoint: those have their own handling.
      new CanonError("E_REGISTRY_UNAVAILABLE", "db away", { exitCode: 3, cause: errno("ECONNREFUSED") }),
      errno("ECONNREFUSED"),
      null,
      undefined,
      "E_ARTIFACTS_DIR: text only",
    ])
      expect(localFaultOf(error), String((error as Error | null)?.message ?? error)).toBeNull();
  });

  it("a cyclic cause chain ends", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(localFaultOf(a)).toBeNull();
  });
});
