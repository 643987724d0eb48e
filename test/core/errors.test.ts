/** errorCodeOf: the one label spans, metrics and logs give an error. */
import { describe, expect, it } from "vitest";
import { CanonError, errorCodeOf, InputError, UNTYPED_ERROR } from "../../src/core/errors.js";

describe("errorCodeOf", () => {
  it("takes a typed error's code", () => {
    expect(errorCodeOf(new InputError("E_USAGE", "bad flag"))).toBe("E_USAGE");
    expect(errorCodeOf(new CanonError("E_QUEUE_UNAVAILABLE", "away", { exitCode: 3 }))).toBe(
      "E_QUEUE_UNAVAILABLE",
    );
  });

  it("takes an E_ code field (the service's HTTP errors)", () => {
    expect(errorCodeOf(Object.assign(new Error("x"), { code: "E_HTTP_NOT_FOUND" }))).toBe("E_HTTP_NOT_FOUND");
  });

  it("takes the known code a failure carried across the queue as '<code>: <message>'", () => {
    expect(errorCodeOf(new Error("E_MODEL_ENDPOINT: the run's model endpoint is not this worker's"))).toBe(
      "E_MODEL_ENDPOINT",
    );
    // A code this build does not know is not trusted from a message.
    expect(errorCodeOf(new Error("E_MADE_UP: no"))).toBe(UNTYPED_ERROR);
  });

  it("calls anything else internal: errno codes, bare errors, non-errors", () => {
    expect(errorCodeOf(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(UNTYPED_ERROR);
    expect(errorCodeOf(new TypeError("boom"))).toBe(UNTYPED_ERROR);
    expect(errorCodeOf(undefined)).toBe(UNTYPED_ERROR);
    expect(errorCodeOf("E_USAGE: a string")).toBe(UNTYPED_ERROR);
    expect(errorCodeOf({ message: 42 })).toBe(UNTYPED_ERROR);
  });
});
