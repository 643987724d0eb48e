/**
 * Issue 21 item 21: what `npm test` makes on the local services cannot collide with a user's
 * data: databases and Redis keys carry the canon_reason_test_ prefix, Redis DB 0 is never used,
 * and the variables that redirect them are the documented ones (test/helpers/services.ts).
 */
import { describe, expect, it } from "vitest";
import { REDIS_URL, redisDb, redisProblem, TEST_PREFIX, testPrefix } from "./helpers/services.js";

describe("issue 21 item 21: test services", () => {
  it("item 21: scratch databases and key prefixes start with canon_reason_test_ and are unique", () => {
    const a = testPrefix("queue");
    const b = testPrefix("queue");
    expect(TEST_PREFIX).toBe("canon_reason_test_");
    expect(a).toMatch(new RegExp(`^canon_reason_test_queue_${process.pid}_[0-9a-f]{8}$`));
    expect(a).not.toBe(b);
    // A PostgreSQL identifier without quoting: lower case, digits and underscores only.
    expect(testPrefix("Mixed-Case")).toMatch(/^[a-z0-9_-]+$/);
  });

  it("item 21: the default Redis is a high DB number; DB 0 is refused like an absent server", async () => {
    if (process.env.CANON_REASON_TEST_REDIS === undefined)
      expect(REDIS_URL).toBe("redis://127.0.0.1:6379/15");
    expect(redisDb(REDIS_URL)).not.toBe(0);
    expect(redisDb("redis://h:6379")).toBe(0);
    expect(redisDb("redis://h:6379/0")).toBe(0);
    expect(redisDb("redis://h:6379/15")).toBe(15);
    expect(await redisProblem("redis://127.0.0.1:6379")).toMatch(
      /never use Redis DB 0: set CANON_REASON_TEST_REDIS/,
    );
    expect(await redisProblem("redis://127.0.0.1:6379/0")).toMatch(/DB 0/);
  });
});
