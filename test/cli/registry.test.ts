/**
 * The CLI against a shared PostgreSQL registry, as users on different machines meet it: a run
 * made in one artifacts dir is verified, replayed, inspected, diffed and exported from an
 * empty one; two processes publishing the same run at once leave one entry; a bad or
 * unreachable registry is one line and an exit code. Skipped, saying so, without PostgreSQL.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../helpers/cli.js";
import { demoRunArgs, demoRunAsync } from "../helpers/demo-run.js";
import { needPostgres, scratchDatabase } from "../helpers/services.js";
import { tempDir } from "../helpers/tmp.js";

const available = await needPostgres();
const url = available ? await scratchDatabase("cli") : "";

describe("a registry that cannot be used", () => {
  const id = `run_v1_${"a".repeat(64)}`;
  it("a malformed registry URL is bad input: one line, exit 2", () => {
    // By run id, or by a path the registry is never asked about: the URL is refused either way.
    for (const ref of [id, "some/run/dir"])
      for (const bad of ["http://127.0.0.1/test", "postgres://127.0.0.1", "::::"]) {
        const r = runCli(["verify", ref, "--registry", bad, "--artifacts-dir", tempDir()]);
        expect(r.status, bad).toBe(2);
        expect(isCleanError(r)).toBe(true);
        expect(r.stderr).toContain("E_REGISTRY_URL");
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      }
  });

  it("an unreachable registry is one line and exit 3, from the flag or the environment", () => {
    const down = "postgres://root@127.0.0.1:1/test";
    const fromFlag = runCli(["verify", id, "--registry", down, "--artifacts-dir", tempDir()]);
    const fromEnv = runCli(["verify", id, "--artifacts-dir", tempDir()], {
      env: { CANON_REASON_DATABASE_URL: down },
    });
    for (const r of [fromFlag, fromEnv]) {
      expect(r.status).toBe(3);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toContain("E_REGISTRY_UNAVAILABLE");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    // Before any work: no run was attempted, nothing written.
    const out = tempDir();
    const run = runCli(
      demoRunArgs({ question: "What causes tides?", root: out, args: ["--registry", down] }),
    );
    expect(run.status).toBe(3);
    expect(existsSync(join(out, "runs"))).toBe(false);
  });
});

describe.skipIf(!available)("runs shared through PostgreSQL", () => {
  it("two processes publishing the same run at once leave one entry; an empty machine reads it", async () => {
    // Each in its own artifacts dir; demoRunAsync throws unless its process exits 0.
    const shared = { question: "What causes tides?", args: ["--registry", url] };
    const [a, b] = await Promise.all([demoRunAsync(shared), demoRunAsync(shared)]);
    const runId = a.runId;
    expect(b.runId).toBe(runId);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const entries = await client.query("SELECT run_id FROM cr_runs WHERE run_id = $1", [runId]);
    await client.end();
    expect(entries.rowCount).toBe(1);

    // A machine with nothing on disk: every run-reading command reads the run from the registry.
    const empty = tempDir();
    const on = ["--registry", url, "--artifacts-dir", empty];
    const verify = runCli(["verify", runId, "--policy", "strict", ...on]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(runCli(["replay", runId, ...on]).status).toBe(0);
    expect(runCli(["replay", runId, "--live", ...on]).status).toBe(0);
    const inspect = runCli(["inspect", runId, "--json", ...on]);
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout).answer.run_id).toBe(runId);
    expect(runCli(["diff", runId, runId, ...on]).status).toBe(0);
    const bundle = join(tempDir(), "run.tar.gz");
    expect(runCli(["export", runId, "-o", bundle, ...on]).status).toBe(0);
    const imported = tempDir();
    expect(runCli(["import", bundle, "--artifacts-dir", imported]).status).toBe(0);
    expect(runCli(["verify", runId, "--artifacts-dir", imported]).status).toBe(0);
    // Materialized beside runs/, never into it: the local runs of this machine are untouched.
    expect(existsSync(join(empty, "runs", runId))).toBe(false);
    expect(existsSync(join(empty, "registry-cache", "runs", runId))).toBe(true);
    // A run id the registry does not hold is not found, as locally.
    const absent = runCli(["verify", `run_v1_${"b".repeat(64)}`, ...on]);
    expect(absent.status).toBe(2);
    expect(absent.stderr).toContain("E_RUN_NOT_FOUND");
  });
});
