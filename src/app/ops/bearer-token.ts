/**
 * The bearer token of a request (`Authorization: Bearer <token>`), compared in constant time.
 * One rule for every listener that takes CANON_REASON_TOKEN: the service's routes and the
 * worker's metrics listener.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { InputError } from "../../core/errors.js";

/** What a token is compared as: its sha256, so every comparison has the same length. */
export const tokenDigest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/** Equal-length digests, so neither the comparison's time nor its length leaks the token. */
export function tokenMatches(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(tokenDigest(presented), expected);
}

/**
 * The token of an Authorization header, or null for none or a malformed one (at most 512 visible
 * ASCII characters). The scheme is matched case-insensitively (RFC 9110 §11.1: `bearer x` is
 * `Bearer x`); the token itself is compared exactly.
 */
export function bearerOf(header: string | undefined): string | null {
  if (typeof header !== "string") return null;
  return /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header)?.[1] ?? null;
}

/** True for a bind address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/**
 * What a listener says when it serves without a token on an address beyond loopback (issue 21,
 * item 7); null when there is nothing to say. Decided: a warning, not a refusal, since a
 * service behind an authenticating proxy is a legitimate setup; but a loud one, on stderr and
 * in the log, at every start.
 */
export function openServerWarning(host: string, token: string | undefined): string | null {
  if (token !== undefined || isLoopbackHost(host)) return null;
  return `WARNING: listening on ${host} with no CANON_REASON_TOKEN (unset or empty): every /v1 route and /metrics are open to anyone who can reach this address. Set CANON_REASON_TOKEN (at least ${MIN_TOKEN_CHARS} characters) or bind 127.0.0.1.`;
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
