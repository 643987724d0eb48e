/**
 * Issue 19 item 7: verify through `serve` never blocks the event loop. The service verifies in
 * worker threads (src/app/verify/off-thread.ts); this runs the compiled module (dist/, as `serve`
 * does: from the TypeScript sources there is no compiled worker and the task runs inline) and
 * checks that timers keep firing while a run is read and verified, that a FIFO in the run is a
 * finding, and that stopping the work fails what waits instead of hanging a shutdown.
 */
import { execFileSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { demoRun } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

// The compiled module, as `serve` loads it (npm run build first, as for every CLI test).
const offThread = (await import(
  new URL("../../dist/app/verify/off-thread.js", import.meta.url).href
)) as typeof import("../../src/app/verify/off-thread.js");

let root: string;
let runDir: string;

beforeAll(() => {
  ({ root, runDir } = demoRun());
});

describe("issue 19 not forgeries: verification off the event loop", () => {
  it("issue 19 not forgeries: timers keep firing while runs are verified in worker threads", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const reports = await Promise.all(
        Array.from({ length: 4 }, () =>
          offThread.verifyOffThread(runDir, { policy: "audit", storeRoot: root }),
        ),
      );
      for (const report of reports) expect(report.verdict).toBe("pass");
    } finally {
      clearInterval(timer);
    }
    // Reading, parsing and verifying on this thread would leave no gap for a 1 ms timer.
    expect(ticks).toBeGreaterThan(5);
  });

  it("issue 19 not forgeries: a FIFO in the run is a finding through the worker, never a hang", async () => {
    const copy = tempDir();
    cpSync(root, copy, { recursive: true });
    const dir = join(copy, "runs", runDir.split("/").pop() as string);
    execFileSync("mkfifo", [join(dir, "pipe.json")]);
    const report = await offThread.verifyOffThread(dir, { policy: "audit", storeRoot: copy });
    expect(report.verdict).toBe("fail");
    expect(JSON.stringify(report.failures)).toMatch(/pipe\.json.*FIFO/);
    const page = await offThread.runPageOffThread(dir, copy);
    expect(page.html).toMatch(/Verification FAILED/);
  });

  it("issue 19 not forgeries: a run directory that is gone is the same typed error through the worker", async () => {
    await expect(
      offThread.verifyOffThread(join(root, "runs", "missing"), { policy: "audit", storeRoot: root }),
    ).rejects.toMatchObject({ code: "E_NOT_A_RUN" });
  });

  it("issue 19 not forgeries: stopping the work (SIGTERM) ends running and waiting verifications", async () => {
    const many = Array.from({ length: 12 }, () =>
      offThread.verifyOffThread(runDir, { policy: "audit", storeRoot: root }).then(
        () => "done",
        () => "stopped",
      ),
    );
    await offThread.stopOffThreadWork();
    const outcomes = await Promise.all(many);
    expect(outcomes).toContain("stopped");
  });
});
