/** What a warm `run` loads: Node's modules that only an index build, a gzipped corpus or a progress bar needs are not. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, DEMO_CORPUS, REPO } from "../helpers/cli.js";

describe("a warm run's start", () => {
  it("loads neither node:worker_threads, node:zlib nor node:readline; a cold one builds and answers alike", () => {
    const work = mkdtempSync(join(tmpdir(), "canon-start-modules-"));
    const preload = join(work, "modules.cjs");
    const list = join(work, "modules.txt");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`,
    );
    const env = {
      ...process.env,
      CANON_REASON_STATE_DIR: join(work, "state"),
      CANON_REASON_CACHE_DIR: join(work, "cache"),
    };
    const args = [
      "run",
      "How is a trick won in contract bridge?",
      "--corpus",
      DEMO_CORPUS,
      "--artifacts-dir",
      join(work, "a"),
      "--json",
    ];
    const run = () => {
      const r = spawnSync(process.execPath, ["--require", preload, CLI, ...args], {
        cwd: REPO,
        env,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      return {
        out: JSON.parse(r.stdout) as { run_id: string },
        modules: readFileSync(list, "utf8").split("\n"),
      };
    };
    const cold = run();
    const warm = run();
    expect(warm.out).toEqual(cold.out);
    for (const name of ["worker_threads", "zlib", "readline"])
      expect(warm.modules).not.toContain(`NativeModule ${name}`);
    // The list is Node's own: a module the run does load is in it.
    expect(warm.modules).toContain("NativeModule crypto");
  });
});
