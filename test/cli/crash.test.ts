/**
 * Crash consistency by enumeration (docs/design.md §4, CONTRIBUTING.md "Crash consistency by enumeration"): a preload SIGKILLs the CLI at
 * the Nth file-system write, rename, mkdir or rm of a run; afterwards nothing partial may sit
 * at `runs/<id>`, and a rerun must succeed and verify.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CLI, REPO, runCli } from "../helpers/cli.js";
import { demoRunArgs } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

const PRELOAD = fileURLToPath(new URL("../helpers/crash-preload.mjs", import.meta.url));
function runWithPreload(root: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", PRELOAD, CLI, ...demoRunArgs({ root })], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
}

describe("a run killed at any write", () => {
  it("leaves nothing partial at runs/<id>, and a rerun succeeds and verifies", () => {
    const counting = tempDir();
    const countFile = join(counting, "count");
    expect(runWithPreload(counting, { CRASH_COUNT_FILE: countFile }).status).toBe(0);
    const total = Number(readFileSync(countFile, "utf8"));
    const runId = readdirSync(join(counting, "runs"))[0] as string;
    expect(total).toBeGreaterThan(5);
    // The first few (store), a spread through the run's files, and the final renames.
    const points = [...new Set([1, 3, Math.floor(total / 2), total - 1, total])];
    for (const n of points) {
      const root = tempDir();
      const killed = runWithPreload(root, { CRASH_AT: String(n) });
      expect(killed.signal, `N=${n}`).toBe("SIGKILL");
      const runDir = join(root, "runs", runId);
      // Either nothing is there, or a complete run that verifies.
      if (existsSync(runDir))
        expect(runCli(["verify", runId, "--artifacts-dir", root]).status, `N=${n}`).toBe(0);
      const again = runCli(demoRunArgs({ root }));
      expect(again.status, `N=${n}: ${again.stderr}`).toBe(0);
      expect(runCli(["verify", runId, "--artifacts-dir", root]).status, `N=${n}`).toBe(0);
      // The killed writer's temporaries were swept by the rerun.
      expect(readdirSync(join(root, "runs")), `N=${n}`).toEqual([runId]);
      const storeFiles = readdirSync(join(root, "store"), { recursive: true }).map(String);
      expect(
        storeFiles.filter((f) => f.includes(".tmp-")),
        `N=${n}`,
      ).toEqual([]);
    }
  }, 30_000);
});
