/** volatile/timings.json is never fingerprinted: read as untrusted, anything odd is simply not shown. */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRunTimings } from "../../src/io/runs/run-reader.js";
import { tempDir } from "../helpers/tmp.js";

function runWith(write: (path: string) => void): string {
  const dir = tempDir();
  mkdirSync(join(dir, "volatile"));
  write(join(dir, "volatile", "timings.json"));
  return dir;
}

describe("readRunTimings", () => {
  it("reads step durations as runJob writes them", () => {
    const steps = [{ node_id: "node_v1_x", kind: "gather", ms: 1.5 }];
    const dir = runWith((p) => writeFileSync(p, JSON.stringify({ prepare_ms: 3, produce_ms: 4, steps })));
    expect(readRunTimings(dir)).toEqual({ prepare_ms: 3, produce_ms: 4, steps });
  });

  it("is null for a missing file, a symlink, a FIFO (without blocking), a folder, bad JSON or a bad shape", () => {
    expect(readRunTimings(tempDir())).toBeNull();
    const secret = join(tempDir(), "secret.json");
    writeFileSync(secret, JSON.stringify({ prepare_ms: 1 }));
    expect(readRunTimings(runWith((p) => symlinkSync(secret, p)))).toBeNull();
    expect(readRunTimings(runWith((p) => execFileSync("mkfifo", [p])))).toBeNull();
    expect(readRunTimings(runWith((p) => mkdirSync(p)))).toBeNull();
    expect(readRunTimings(runWith((p) => writeFileSync(p, "{")))).toBeNull();
    expect(
      readRunTimings(runWith((p) => writeFileSync(p, JSON.stringify({ steps: [{ ms: -1 }] })))),
    ).toBeNull();
  });
});
