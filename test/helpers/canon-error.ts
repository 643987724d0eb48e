/**
 * The CanonError a call throws or a promise rejects with, for tests that assert its code, exit
 * code, message and place. Anything else (no error, another kind of error) fails the test.
 */
import { CanonError } from "../../src/core/errors.js";

export function thrown(fn: () => unknown): CanonError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CanonError) return error;
    throw error;
  }
  throw new Error("expected a CanonError, and nothing was thrown");
}

export async function rejection(promise: Promise<unknown>): Promise<CanonError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e ?? new Error("rejected with nothing"),
  );
  if (error instanceof CanonError) return error;
  throw error ?? new Error("expected a CanonError, and the promise resolved");
}
