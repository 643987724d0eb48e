/** Reading a store object for a check: absence and corruption become findings, not exceptions. */
import { CanonError } from "../errors.js";
import type { StoreReader } from "./check.js";
import { type Finding, finding } from "./findings.js";

export function readStoreObject(
  store: StoreReader,
  hash: string,
  what: string,
): { bytes: Uint8Array } | { finding: Finding } {
  try {
    const bytes = store.get(hash);
    if (bytes === null) return { finding: finding("STORE_OBJECT_MISSING", { what, hash }) };
    return { bytes };
  } catch (e) {
    if (e instanceof CanonError)
      return { finding: finding("STORE_OBJECT_CORRUPT", { what, hash, error: e.message }) };
    throw e;
  }
}
