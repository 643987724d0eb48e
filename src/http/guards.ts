/**
 * Guards every request passes before a handler runs: an optional bearer token compared in
 * constant time, and a fixed-window rate limit keyed by token (or by address without one),
 * counted once per request in the first hook so a rejected request still counts.
 */
import type { FastifyInstance } from "fastify";
import { bearerOf, tokenDigest, tokenMatches } from "../app/ops/bearer-token.js";
import { HttpError } from "./problem.js";

export interface GuardOptions {
  /** The bearer token every /v1 request must carry; none: no authentication. */
  token?: string | undefined;
  rateLimit: { max: number; windowMs: number };
  /** Paths served without a token (health, the API description). */
  publicPaths: ReadonlySet<string>;
  now?: () => number;
}

export function installGuards(app: FastifyInstance, options: GuardOptions): void {
  const expected = options.token === undefined ? null : tokenDigest(options.token);
  const now = options.now ?? Date.now;
  const { max, windowMs } = options.rateLimit;
  let windowStart = now();
  let counts = new Map<string, number>();

  app.addHook("onRequest", async (request) => {
    const bearer = bearerOf(request.headers.authorization);
    const authenticated = expected !== null && bearer !== null && tokenMatches(bearer, expected);
    // A valid token is its own bucket; anything else (no token, a wrong one) counts against the address.
    const key = authenticated
      ? `token:${tokenDigest(bearer as string).toString("hex")}`
      : `addr:${request.ip}`;
    const t = now();
    if (t - windowStart >= windowMs) {
      windowStart = t;
      counts = new Map();
    }
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    if (count > max) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000));
      throw new HttpError(429, "E_HTTP_RATE_LIMITED", `more than ${max} requests in ${windowMs} ms`, {
        retry_after: retryAfter,
      });
    }
    const path = request.url.split("?")[0] ?? "";
    if (expected !== null && !authenticated && !options.publicPaths.has(path)) {
      throw new HttpError(
        401,
        "E_HTTP_UNAUTHORIZED",
        bearer === null ? "an Authorization: Bearer token is required" : "the bearer token is not valid",
      );
    }
  });
}
