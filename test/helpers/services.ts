/**
 * The outside services some tests need (PostgreSQL, Redis), found on 127.0.0.1. A test file
 * asks for one with `await needPostgres()`: when it answers, the tests run; when it does not,
 * they are skipped with a plain message, so a laptop without the services still passes
 * `npm test`. CI sets CANON_REASON_REQUIRE_SERVICES=1 (.ci/run), and then a missing service is a
 * failing test instead of a skip.
 *
 * Nothing the tests make can collide with a user's data (issue 21 item 21):
 * - CANON_REASON_TEST_PG (default postgres://root@127.0.0.1:5432/test): the database scratch
 *   databases are created from; each is named `canon_reason_test_<label>_<pid>_<random>` and
 *   dropped after its file.
 * - CANON_REASON_TEST_REDIS (default redis://127.0.0.1:6379/15): the Redis the queue tests use,
 *   never DB 0 (a URL naming DB 0 is refused like an absent server); every key starts with a
 *   per-file `canon_reason_test_` prefix (testPrefix) and is removed after the file.
 * - CANON_REASON_REQUIRE_SERVICES=1: a missing or refused service fails instead of skipping.
 */
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import pg from "pg";
import { afterAll, it } from "vitest";

export const REQUIRE_SERVICES = process.env.CANON_REASON_REQUIRE_SERVICES === "1";
/** A database the tests may create scratch databases from (trust auth on the CI machines). */
export const PG_ADMIN_URL = process.env.CANON_REASON_TEST_PG ?? "postgres://root@127.0.0.1:5432/test";
export const REDIS_URL = process.env.CANON_REASON_TEST_REDIS ?? "redis://127.0.0.1:6379/15";
/** Every database, Redis key prefix and queue name the tests make starts with this. */
export const TEST_PREFIX = "canon_reason_test_";

/** A name no one else uses: the prefix, a label, this process and some randomness. */
export function testPrefix(label: string): string {
  return `${TEST_PREFIX}${label}_${process.pid}_${randomBytes(4).toString("hex")}`.toLowerCase();
}

/** The Redis DB number a redis:// URL selects (0 when it names none). */
export function redisDb(url: string): number {
  const path = new URL(url).pathname.replace(/^\//, "");
  return path === "" ? 0 : Number(path);
}

async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A TCP connect and PING, without loading a Redis client. */
export function redisProblem(url = REDIS_URL): Promise<string | null> {
  if (redisDb(url) === 0)
    return Promise.resolve(
      "the tests never use Redis DB 0: set CANON_REASON_TEST_REDIS to another DB, e.g. /15",
    );
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(2000, () => done("timed out"));
    socket.on("error", (error) => done(error.message));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(data.toString().startsWith("+PONG") ? null : `answered ${data}`));
  });
}

async function need(service: string, where: string, problem: string | null): Promise<boolean> {
  if (problem === null) return true;
  if (REQUIRE_SERVICES) {
    it(`${service} answers at ${where} (required: CANON_REASON_REQUIRE_SERVICES=1)`, () => {
      throw new Error(`${service} at ${where} does not answer: ${problem}`);
    });
  } else {
    process.stderr.write(
      `skipped: ${service} at ${where} does not answer (${problem}); these tests run whenever it does\n`,
    );
  }
  return false;
}

export async function needPostgres(): Promise<boolean> {
  return need("PostgreSQL", PG_ADMIN_URL, await postgresProblem());
}

export async function needRedis(): Promise<boolean> {
  return need("Redis", REDIS_URL, await redisProblem());
}

const scratch: string[] = [];

/** A fresh database for this test file (parallel files never share one), dropped after the file. */
export async function scratchDatabase(label: string): Promise<string> {
  const name = testPrefix(label);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  scratch.push(name);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

afterAll(async () => {
  if (scratch.length === 0) return;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  for (const name of scratch.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});
