/**
 * The bearer token of a request (`Authorization: Bearer <token>`), compared in constant time.
 * One rule for every listener that takes CANON_REASON_TOKEN: the service's routes and the
 * worker's metrics listener.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { InputError } from "../core/errors.js";

/** What a token is compared as: its sha256, so every comparison has the same length. */
export const tokenDigest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/** Equal-length digests, so neither the comparison's time nor its length leaks the token. */
export function tokenMatches(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(tokenDigest(presented), expected);
}

/** The token of an Authorization header, or null for none or a malformed one (at most 512 visible ASCII characters). */
export function bearerOf(header: string | undefined): string | null {
  if (typeof header !== "string") return null;
  return /^Bearer ([\x21-\x7e]{1,512})$/.exec(header)?.[1] ?? null;
}

/** The shortest CANON_REASON_TOKEN a listener accepts: a short token is guessed, not kept. */
export const MIN_TOKEN_CHARS = 16;

/** Refuses a configured token too short to protect anything (no token: no authentication). */
export function checkServiceToken(token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_CHARS)
    throw new InputError("E_USAGE", `CANON_REASON_TOKEN must be at least ${MIN_TOKEN_CHARS} characters`, {
      field: "CANON_REASON_TOKEN",
    });
}
