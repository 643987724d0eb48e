import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_CORPUS, isCleanError, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

let artifacts: string;
const runs: Record<string, string> = {};

beforeAll(() => {
  artifacts = tempDir();
  const questions = {
    evidence: "How is a trick won in contract bridge?",
    insufficient: "Who is the one that was there?",
  };
  for (const [name, question] of Object.entries(questions)) {
    runs[name] = JSON.parse(
      runCli(["run", question, "--corpus", DEMO_CORPUS, "--artifacts-dir", artifacts, "--json"]).stdout,
    ).run_dir;
  }
});

describe("canon-reason replay", () => {
  it.each(["evidence", "insufficient"])(
    "reproduces a fresh %s run byte for byte, frozen and live",
    (name) => {
      for (const mode of [[], ["--live"]]) {
        const r = runCli(["replay", runs[name] as string, ...mode, "--json"]);
        expect(r.status).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({
          identical: true,
          divergence: null,
          mode: mode.length ? "live" : "frozen",
        });
        expect(out.replayed_sha256).toBe(out.recorded_sha256);
      }
    },
  );

  it("names the first diverging event when the recorded reasoning was altered", () => {
    const dir = join(artifacts, "runs", "altered");
    cpSync(runs.evidence as string, dir, { recursive: true });
    const trace = readFileSync(join(dir, "trace.jsonl"), "utf8");
    writeFileSync(
      join(dir, "trace.jsonl"),
      trace.replace(/"statement":"In bridge, a trick/g, '"statement":"In bridge, the trick'),
    );
    const r = runCli(["replay", dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("MISMATCH");
    expect(r.stdout).toMatch(/first divergence at event \d+ \(claim_emitted\), field claim\.statement/);
  });

  it("live replay notices recorded retrieval results that the corpus does not give", () => {
    const dir = join(artifacts, "runs", "rescored");
    cpSync(runs.evidence as string, dir, { recursive: true });
    const trace = readFileSync(join(dir, "trace.jsonl"), "utf8");
    writeFileSync(join(dir, "trace.jsonl"), trace.replace(/"score":(\d)/, '"score":9$1'));
    expect(runCli(["replay", dir]).status).toBe(0); // frozen replay serves the recorded results
    const live = JSON.parse(runCli(["replay", dir, "--live", "--json"]).stdout);
    expect(live.identical).toBe(false);
    expect(live.divergence).toMatchObject({ kind: "tool_returned" });
    expect(live.divergence.field).toMatch(/^result\.payload\.hits\[0\]\.score$/);
  });

  it("exits 2 on something that is not a run", () => {
    const r = runCli(["replay", join(tempDir(), "nothing")]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
  });
});
