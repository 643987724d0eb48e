/**
 * src/app/verify/replay.ts against temporary folders: a fresh run replays byte for byte, frozen and
 * live; a recorded value the run no longer derives is a divergence named by event and field;
 * a store without (or with altered) pinned objects fails closed with exit 1 naming the object;
 * a run whose trace does not parse is E_NOT_A_RUN; a run by a reasoner this build lacks is
 * E_USAGE saying to diff it instead.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { replayRunDirectory } from "../../src/app/verify/replay.js";
import { canonicalJson } from "../../src/core/canonical.js";
import { rejection } from "../helpers/canon-error.js";
import { type JobRun, jobRun } from "../helpers/job-run.js";
import { tempDir } from "../helpers/tmp.js";

let run: JobRun;
let snapshot: string;

beforeAll(async () => {
  run = await jobRun();
  const spec = JSON.parse(readFileSync(join(run.runDir, "spec.json"), "utf8"));
  snapshot = (spec.constraints.corpus as string).replace("sha256:", "");
});

/** A copy of the whole artifacts root, and the run's directory in it. */
function copyRoot(): { root: string; dir: string } {
  const root = tempDir();
  cpSync(run.root, root, { recursive: true });
  return { root, dir: join(root, "runs", run.runId) };
}

describe("replayRunDirectory", () => {
  it.each(["frozen", "live"] as const)("reproduces a fresh run's trace byte for byte (%s)", async (mode) => {
    const result = await replayRunDirectory(run.runDir, run.root, mode);
    expect(result).toMatchObject({ mode, identical: true, divergence: null });
    expect(result.replayed_sha256).toBe(result.recorded_sha256);
  });

  it("names the first divergence when the recorded trace says what the run does not derive", async () => {
    const { root, dir } = copyRoot();
    const path = join(dir, "trace.jsonl");
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    const at = lines.findIndex((l) => l.includes('"type":"claim_emitted"'));
    expect(at).toBeGreaterThan(0);
    const event = JSON.parse(lines[at] as string);
    event.claim.statement = `${event.claim.statement} (edited)`;
    lines[at] = canonicalJson(event);
    writeFileSync(path, `${lines.join("\n")}\n`);
    const result = await replayRunDirectory(dir, root, "frozen");
    expect(result.identical).toBe(false);
    expect(result.replayed_sha256).not.toBe(result.recorded_sha256);
    expect(result.divergence).toMatchObject({ index: at - 1, kind: "claim_emitted" });
    expect(result.divergence?.field).toMatch(/^claim\./);
  });

  it("fails closed (exit 1) naming the object when the store lacks the pinned snapshot", async () => {
    const error = await rejection(replayRunDirectory(run.runDir, tempDir(), "frozen"));
    expect(error.code).toBe("E_STORE_MISSING");
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain(`corpus snapshot sha256:${snapshot}`);
  });

  it("fails closed (exit 1) when the pinned snapshot's bytes were altered in the store", async () => {
    const { root, dir } = copyRoot();
    const object = join(root, "store", "sha256", snapshot.slice(0, 2), snapshot.slice(2));
    const bytes = readFileSync(object);
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0x01;
    writeFileSync(object, bytes);
    for (const mode of ["frozen", "live"] as const) {
      const error = await rejection(replayRunDirectory(dir, root, mode));
      expect(error.exitCode, mode).toBe(1);
    }
  });

  it("a trace that does not parse is E_NOT_A_RUN (exit 2), pointing at verify", async () => {
    const { root, dir } = copyRoot();
    writeFileSync(join(dir, "trace.jsonl"), "\u0000not json\n");
    const error = await rejection(replayRunDirectory(dir, root, "frozen"));
    expect([error.code, error.exitCode]).toEqual(["E_NOT_A_RUN", 2]);
    expect(error.message).toMatch(/canon-reason verify/);
  });

  it("a run by a reasoner version this build lacks is E_USAGE, saying to diff it", async () => {
    const { root, dir } = copyRoot();
    const path = join(dir, "run.json");
    const record = JSON.parse(readFileSync(path, "utf8"));
    record.inputs.runtime.reasoner.version = "999";
    writeFileSync(path, canonicalJson(record));
    const error = await rejection(replayRunDirectory(dir, root, "frozen"));
    expect(error.code).toBe("E_USAGE");
    expect(error.message).toMatch(/extractive 999.*canon-reason diff/);
  });

  it("a folder that is not a run, or is not there, is bad input (exit 2): a rejected promise, never a throw", async () => {
    for (const dir of [tempDir(), join(tempDir(), "missing")]) {
      const error = await rejection(replayRunDirectory(dir, tempDir(), "frozen"));
      expect([error.code, error.exitCode]).toEqual(["E_NOT_A_RUN", 2]);
    }
  });
});
