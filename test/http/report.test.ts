/** GET /v1/runs/{id}/report: the same page as `canon-reason report`, over real HTTP on loopback. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReport } from "../../src/app/report-pages.js";
import { call, type Reply, startServer, type TestServer } from "../helpers/http.js";
import { makeReportRuns, type ReportRuns } from "../helpers/report-runs.js";

let server: TestServer;
let runs: ReportRuns;

beforeAll(async () => {
  runs = await makeReportRuns();
  server = await startServer({ artifactsRoot: runs.root });
});
afterAll(async () => {
  await server.close();
});

const expectProblem = (r: Reply, status: number, code: string) => {
  expect(r.status).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.json()).toMatchObject({ status, code });
};

describe("GET /v1/runs/{id}/report", () => {
  it("serves the run's page as text/html with its CSP as a header, the same bytes as the CLI's", async () => {
    const r = await call(server.url, "GET", `/v1/runs/${runs.ids.hostile}/report`);
    expect(r.status).toBe(200);
    expect(r.type).toBe("text/html; charset=utf-8");
    const page = runReport(runs.runDir("hostile"), runs.root);
    expect(r.text).toBe(page.html);
    expect(r.headers.get("content-security-policy")).toBe(page.csp);
    expect(page.csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; script-src 'sha256-/);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.text).not.toContain("<script>window.__pwned");
  });

  it("is 404 problem+json for an unknown run and 400 for ids that are not run ids", async () => {
    expectProblem(
      await call(server.url, "GET", `/v1/runs/run_v1_${"0".repeat(64)}/report`),
      404,
      "E_RUN_NOT_FOUND",
    );
    for (const id of [`run_v1_${"0".repeat(63)}`, `RUN_V1_${"0".repeat(64)}`, "x".repeat(80), "run_v1_%00"])
      expectProblem(await call(server.url, "GET", `/v1/runs/${id}/report`), 400, "E_HTTP_VALIDATION");
    // Traversal is refused by the id pattern (an encoded slash) or matches no route at all.
    expectProblem(await call(server.url, "GET", "/v1/runs/..%2F..%2Fetc/report"), 400, "E_HTTP_VALIDATION");
    for (const path of ["/v1/runs/%2e%2e/report", "/v1/runs/../../etc/passwd/report"]) {
      const r = await call(server.url, "GET", path);
      expectProblem(r, 404, "E_HTTP_NOT_FOUND");
      expect(r.text).not.toContain("root:");
    }
  });
});
