/**
 * 32 run creations at once, some identical, through two servers sharing one artifacts root
 * (two registry connections, one run writer protocol): every run verifies, and the registry
 * lists each distinct run exactly once.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, demoSpec, startServer, type TestServer } from "../helpers/http.js";
import { tempDir } from "../helpers/tmp.js";

const QUESTIONS = [
  "What causes tides?",
  "What is photosynthesis?",
  "How do vaccines work?",
  "Why is the sky blue?",
  "What caused the fall of Rome?",
  "How does a transistor work?",
  "What is inflation?",
  "What are black holes?",
];

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const root = tempDir("canon-concurrent-");
  a = await startServer({ artifactsRoot: root });
  b = await startServer({ artifactsRoot: root });
});
afterAll(async () => {
  await a.close();
  await b.close();
});

describe("concurrent run creation", () => {
  it("32 parallel posts, 8 distinct runs: each listed once, each verifies", async () => {
    const replies = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        call(i % 2 === 0 ? a.url : b.url, "POST", "/v1/runs", {
          spec: demoSpec(QUESTIONS[i % QUESTIONS.length]),
        }),
      ),
    );
    for (const r of replies) expect([200, 201], r.text).toContain(r.status);
    const ids = new Set(replies.map((r) => r.json().run_id as string));
    expect(ids.size).toBe(QUESTIONS.length);

    const listed = (await call(a.url, "GET", "/v1/runs?limit=100"))
      .json()
      .runs.map((r: { run_id: string }) => r.run_id);
    expect([...listed].sort()).toEqual([...ids].sort());
    expect((await call(b.url, "GET", "/v1/runs?limit=100")).json().runs).toHaveLength(ids.size);

    for (const id of ids) {
      const verified = await call(b.url, "POST", `/v1/runs/${id}/verify`);
      expect(verified.json().passed, id).toBe(true);
    }
    // Nothing but the published runs is left in runs/.
    expect(readdirSync(join(a.root, "runs")).sort()).toEqual([...ids].sort());
  });
});
