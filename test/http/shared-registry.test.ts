/**
 * Two services on different artifacts roots sharing one PostgreSQL registry, as two machines
 * behind a load balancer would: a run created on one is listed, read, verified and replayed on
 * the other. Skipped, saying so, when PostgreSQL does not answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgRegistry } from "../../src/registry/postgres.js";
import { isCleanError, runCli } from "../helpers/cli.js";
import { call, demoSpec, startServer, type TestServer } from "../helpers/http.js";
import { needPostgres, scratchDatabase } from "../helpers/services.js";

const available = await needPostgres();
const url = available ? await scratchDatabase("http") : "";

it("serve refuses a malformed registry URL before listening (exit 2)", () => {
  const r = runCli(["serve", "--port", "0", "--registry", "mysql://127.0.0.1/test"]);
  expect(r.status).toBe(2);
  expect(isCleanError(r)).toBe(true);
  expect(r.stderr).toContain("E_REGISTRY_URL");
});

describe.skipIf(!available)("services sharing a PostgreSQL registry", () => {
  let one: TestServer;
  let two: TestServer;
  beforeAll(async () => {
    one = await startServer({ registry: await PgRegistry.connect(url) });
    two = await startServer({ registry: await PgRegistry.connect(url) });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
  });

  it("a run created on one service is read, verified and replayed on the other", async () => {
    const created = await call(one.url, "POST", "/v1/runs", { spec: demoSpec() });
    expect(created.status).toBe(201);
    const runId = created.json().run_id as string;
    const listed = await call(two.url, "GET", "/v1/runs?limit=10");
    expect(listed.json().runs.map((r: { run_id: string }) => r.run_id)).toEqual([runId]);
    const summary = await call(two.url, "GET", `/v1/runs/${runId}`);
    expect(summary.status).toBe(200);
    expect(summary.json().root_digest).toBe(
      (await call(one.url, "GET", `/v1/runs/${runId}`)).json().root_digest,
    );
    const trace = await call(two.url, "GET", `/v1/runs/${runId}/trace`);
    expect(trace.text).toBe((await call(one.url, "GET", `/v1/runs/${runId}/trace`)).text);
    const verified = await call(two.url, "POST", `/v1/runs/${runId}/verify`, { policy: "strict" });
    expect(verified.json().passed).toBe(true);
    const replayed = await call(two.url, "POST", `/v1/runs/${runId}/replay`, { live: true });
    expect(replayed.json().identical).toBe(true);
    // An item saved on one service runs on the other.
    const item = (await call(one.url, "POST", "/v1/items", { name: "tides", spec: demoSpec() })).json();
    const fromItem = await call(two.url, "POST", "/v1/runs", { item_id: item.id });
    expect(fromItem.json().run_id).toBe(runId);
    expect((await call(two.url, "GET", `/v1/runs/${runId}/nothing`)).status).toBe(404);
    expect((await call(two.url, "GET", `/v1/runs/run_v1_${"c".repeat(64)}`)).status).toBe(404);
  });
});
