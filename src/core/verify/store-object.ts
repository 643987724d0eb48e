/** Reading a store object for a check: absence and corruption become issues, not exceptions. */
import { CanonError } from "../errors.js";
import type { StoreReader } from "./check.js";
import { error, type Issue } from "./issue.js";

export function readStoreObject(
  store: StoreReader,
  hash: string,
  what: string,
): { bytes: Uint8Array } | { issue: Issue } {
  try {
    const bytes = store.get(hash);
    if (bytes === null)
      return { issue: error("STORE_OBJECT_MISSING", `${what} sha256:${hash} is not in the store`) };
    return { bytes };
  } catch (e) {
    if (e instanceof CanonError)
      return { issue: error("STORE_OBJECT_CORRUPT", `${what} sha256:${hash}: ${e.message}`) };
    throw e;
  }
}
