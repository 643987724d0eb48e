/**
 * How to reach the queue's Redis and how far to trust it: the redis:// URL (flag or
 * environment), the key prefix, the bound on waiting for an answer, and the server settings
 * that can lose queued jobs.
 */
import { CanonError, InputError } from "../core/errors.js";

export const QUEUE_PREFIX_ENV = "CANON_REASON_QUEUE_PREFIX";
export const QUEUE_URL_ENV = "CANON_REASON_QUEUE_URL";
const MAX_URL_CHARS = 4096;

export interface QueueConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

/** A redis:// (or rediss://) URL as connection options, or bad input saying what is wrong with it. */
export function parseQueueUrl(url: string): QueueConnection {
  const bad = (why: string) =>
    new InputError("E_QUEUE_URL", `${why} (expected redis://HOST:PORT[/DB])`, {
      field: `--queue or ${QUEUE_URL_ENV}`,
    });
  if (url.length > MAX_URL_CHARS) throw bad(`the queue URL is longer than ${MAX_URL_CHARS} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("the queue is not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw bad(`a queue URL must start with redis://, not ${parsed.protocol}//`);
  if (parsed.hostname === "") throw bad("the queue URL names no host");
  const dbText = parsed.pathname.replace(/^\//, "");
  if (dbText !== "" && !/^[0-9]{1,2}$/.test(dbText)) throw bad("the queue URL's database must be a number");
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    db: dbText === "" ? 0 : Number(dbText),
    ...(parsed.username === "" ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === "" ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

/** The queue URL from the flag, else the environment; undefined for none. */
export function queueUrlOf(option: string | undefined): string | undefined {
  const value = option ?? process.env[QUEUE_URL_ENV];
  return value === undefined || value === "" ? undefined : value;
}

/** Key prefix in Redis: lets several deployments (or test runs) share one server. */
export function queuePrefix(): string {
  const value = process.env[QUEUE_PREFIX_ENV];
  return value === undefined || value === "" ? "bull" : value;
}

export const queueUnavailable = (cause: unknown) =>
  new CanonError(
    "E_QUEUE_UNAVAILABLE",
    `the queue does not answer (${(cause as Error | undefined)?.message ?? String(cause)}): is Redis running there?`,
    { exitCode: 3, cause },
  );

/** How long a queue command may wait for Redis before the queue counts as unavailable. */
export const QUEUE_TIMEOUT_MS = 5000;
/**
 * What can lose queued jobs on this Redis, as warnings (empty: nothing found). Without
 * `appendonly yes` a restart loses what was written since the last RDB snapshot (or all of it);
 * an eviction policy other than `noeviction` may drop job keys under memory pressure. A server
 * that refuses CONFIG (a managed Redis, an ACL) is said to be unchecked, not wrong.
 */
export function persistenceWarnings(settings: { appendonly?: string; maxmemoryPolicy?: string }): string[] {
  const warnings: string[] = [];
  if (settings.appendonly === undefined || settings.maxmemoryPolicy === undefined)
    warnings.push(
      "could not read Redis's persistence settings (CONFIG GET refused): make sure it runs with appendonly yes and maxmemory-policy noeviction, or a restart can lose queued jobs",
    );
  if (settings.appendonly !== undefined && settings.appendonly !== "yes")
    warnings.push(
      `Redis runs with appendonly ${settings.appendonly}: a restart can lose queued jobs (the eval submits lost ones again); recommended: appendonly yes`,
    );
  if (settings.maxmemoryPolicy !== undefined && settings.maxmemoryPolicy !== "noeviction")
    warnings.push(
      `Redis runs with maxmemory-policy ${settings.maxmemoryPolicy}: it may evict queued jobs under memory pressure; recommended: maxmemory-policy noeviction`,
    );
  return warnings;
}

/** `promise`, or E_QUEUE_UNAVAILABLE when Redis does not answer within `ms` (the client waits for a connection). */
export async function answered<T>(promise: Promise<T>, ms = QUEUE_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(queueUnavailable(new Error(`no answer within ${ms} ms`))), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (error) {
    throw error instanceof CanonError ? error : queueUnavailable(error);
  } finally {
    clearTimeout(timer);
  }
}
