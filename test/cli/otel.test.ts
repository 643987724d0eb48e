/**
 * The built CLI under a user's OpenTelemetry SDK, loaded with `node --import` as README
 * "Scaling out" says: the bundled API finds the SDK the preload registered, so `run` exports
 * its run span and step spans; without the preload it prints the same run.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, REPO } from "../helpers/cli.js";
import { demoRunArgs } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

const PRELOAD = join(REPO, "test", "helpers", "otel-preload.mjs");

function run(nodeArgs: string[], spans: string) {
  const r = spawnSync(
    process.execPath,
    [
      ...nodeArgs,
      CLI,
      ...demoRunArgs({ question: "How is a trick won in contract bridge?", root: tempDir() }),
    ],
    { cwd: REPO, encoding: "utf8", env: { ...process.env, CANON_REASON_TEST_SPANS: spans } },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { run_id: string };
}

describe("run under node --import ./otel.mjs", () => {
  it("exports the run span (with the run id) and a span per plan step; the run is the one printed without it", () => {
    const spans = join(tempDir(), "spans.jsonl");
    const traced = run(["--import", PRELOAD], spans);
    const lines = readFileSync(spans, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const root = lines.find((l) => l.name === "canon_reason.run");
    expect(root?.attributes["canon_reason.run.id"]).toBe(traced.run_id);
    expect(root?.parent_id).toBeNull();
    const steps = lines.filter((l) => String(l.name).startsWith("canon_reason.step "));
    expect(steps.length).toBeGreaterThanOrEqual(4);
    for (const step of steps) expect(step.parent_id).toBe(root?.span_id);
    expect(lines.some((l) => l.name === "retrieval")).toBe(true);
    const plain = run([], join(tempDir(), "none.jsonl"));
    expect(plain.run_id).toBe(traced.run_id);
  });
});
