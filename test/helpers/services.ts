/**
 * The outside services some tests need (PostgreSQL, Redis), found on 127.0.0.1. A test file
 * asks for one with `await needPostgres()`: when it answers, the tests run; when it does not,
 * they are skipped with a plain message, so a laptop without the services still passes
 * `npm test`. CI sets CANON_REASON_REQUIRE_SERVICES=1 (.ci/run), and then a missing service is a
 * failing test instead of a skip.
 */
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import pg from "pg";
import { afterAll, it } from "vitest";

export const REQUIRE_SERVICES = process.env.CANON_REASON_REQUIRE_SERVICES === "1";
/** A database the tests may create scratch databases from (trust auth on the CI machines). */
export const PG_ADMIN_URL = process.env.CANON_REASON_TEST_PG ?? "postgres://root@127.0.0.1:5432/test";
export const REDIS_URL = process.env.CANON_REASON_TEST_REDIS ?? "redis://127.0.0.1:6379";

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
  const name = `cr_test_${label}_${process.pid}_${randomBytes(4).toString("hex")}`.toLowerCase();
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
