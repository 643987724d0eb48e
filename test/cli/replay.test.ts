import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../helpers/cli.js";
import { demoRun } from "../helpers/demo-run.js";
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
    runs[name] = demoRun({ question, root: artifacts }).runDir;
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

  it("reports a recorded result that no longer fits its call as a mismatch, not an error", () => {
    const dir = join(artifacts, "runs", "reargued");
    cpSync(runs.evidence as string, dir, { recursive: true });
    const trace = readFileSync(join(dir, "trace.jsonl"), "utf8");
    writeFileSync(join(dir, "trace.jsonl"), trace.replace('"call":{"args":{', '"call":{"args":{"extra":1,'));
    const out = JSON.parse(runCli(["replay", dir, "--json"]).stdout);
    expect(out).toMatchObject({
      identical: false,
      divergence: { kind: "tool_called", field: "call.args.extra" },
    });
  });

  it("writes nothing: runs/ holds the same entries after a replay", () => {
    const before = readdirSync(join(artifacts, "runs")).sort();
    expect(runCli(["replay", runs.evidence as string, "--live"]).status).toBe(0);
    expect(readdirSync(join(artifacts, "runs")).sort()).toEqual(before);
  });

  it.each([
    ["a missing path", () => join(tempDir(), "nothing"), /no such run directory/],
    ["a directory that is not a run", () => tempDir(), /no run files in it/],
    [
      "a run whose run.json is corrupt",
      () => {
        const dir = join(tempDir(), "corrupt");
        cpSync(runs.evidence as string, dir, { recursive: true });
        writeFileSync(join(dir, "run.json"), "{ not json");
        return dir;
      },
      /run\.json is not valid JSON: run `canon-reason verify` on it first/,
    ],
  ])("exits 2 with a clear message on %s", (_name, make, message) => {
    const r = runCli(["replay", make()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(isCleanError(r)).toBe(true);
  });

  it("frozen and live replay exit 1 when the pinned corpus snapshot is not in the store", () => {
    const elsewhere = join(tempDir(), "runs", "copy");
    cpSync(runs.evidence as string, elsewhere, { recursive: true });
    for (const mode of [["--live"], []]) {
      const r = runCli(["replay", elsewhere, ...mode]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/E_STORE_MISSING.*corpus snapshot sha256:[0-9a-f]{64} is not in the store/);
      expect(isCleanError(r)).toBe(true);
    }
  });

  it("frozen and live replay exit 1 naming a corrupt pinned snapshot or index", () => {
    for (const field of ["corpus_snapshot", "index_hash"] as const) {
      const root = tempDir();
      const dir = join(root, "runs", "r");
      cpSync(artifacts, root, { recursive: true });
      cpSync(runs.evidence as string, dir, { recursive: true });
      const provenance = JSON.parse(
        readFileSync(join(dir, "provenance", "retrieval.json"), "utf8"),
      ).provenance;
      const hash: string = provenance[field];
      const object = join(root, "store", "sha256", hash.slice(0, 2), hash.slice(2));
      const bytes = readFileSync(object);
      const at = bytes.length >> 1;
      bytes.writeUInt8(bytes.readUInt8(at) ^ 1, at);
      writeFileSync(object, bytes);
      for (const mode of [[], ["--live"]]) {
        const r = runCli(["replay", dir, ...mode]);
        expect(r.status, `${field} ${mode.join(" ")}`).toBe(1);
        expect(r.stderr).toContain(hash);
        expect(isCleanError(r)).toBe(true);
      }
    }
  });
});
