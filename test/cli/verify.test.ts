import {
  appendFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../helpers/cli.js";
import { demoRun, demoRunArgs } from "../helpers/demo-run.js";
import { tempDir } from "../helpers/tmp.js";

let artifacts: string;
let runDir: string;
let runId: string;

/** A copy of the run beside it under runs/, so it finds the same store. */
function copyRun(): string {
  const dir = join(artifacts, "runs", `copy-${Math.random().toString(36).slice(2)}`);
  cpSync(runDir, dir, { recursive: true });
  return dir;
}

beforeAll(() => {
  ({ root: artifacts, runDir, runId } = demoRun());
});

describe("canon-reason verify", () => {
  it("passes an untouched run (by path or id) with a table of checks, exit 0", () => {
    for (const ref of [runDir, runId]) {
      const r = runCli(["verify", ref, "--artifacts-dir", artifacts]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/pass {2}evidence_origin {7}INV-EVD-003/);
      expect(r.stdout).toContain("Verdict: PASS (17/17 checks passed, policy audit)");
    }
    for (const policy of ["strict", "permissive"])
      expect(runCli(["verify", runDir, "--policy", policy]).status).toBe(0);
    const json = JSON.parse(runCli(["verify", runDir, "--json"]).stdout);
    expect(json.verdict).toBe("pass");
    expect(json.checks).toHaveLength(17);
  });

  it("exits 1 on an empty directory added to a run: it is content the manifest cannot list", () => {
    const dir = copyRun();
    mkdirSync(join(dir, "evidence", "extra"));
    const r = runCli(["verify", dir, "--json"]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.failures).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: "UNEXPECTED_ENTRY", check: "manifest" })]),
    );
    expect(JSON.stringify(report.failures)).toContain("evidence/extra: empty directory");
  });

  it("--require-signature fails an unsigned run; a run renamed to another id fails", () => {
    const r = runCli(["verify", runDir, "--require-signature", "--json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).failures.map((f: { code: string }) => f.code)).toEqual(["SIGNATURE_MISSING"]);
    const copy = runCli(["verify", copyRun(), "--json"]);
    expect(copy.status).toBe(1);
    expect(JSON.parse(copy.stdout).failures.map((f: { code: string }) => f.code)).toEqual(["RUN_DIR_NAME"]);
  });

  it("exits 1 and names the check when a file is tampered with", () => {
    const dir = copyRun();
    const evidence = readFileSync(join(dir, "provenance/chunks.json"), "utf8").match(
      /evidence\/[0-9a-f]{64}\.txt/,
    )?.[0] as string;
    appendFileSync(join(dir, evidence), " ");
    const r = runCli(["verify", dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL +evidence_files/);
    expect(r.stdout).toMatch(/\[error\] manifest \(INV-ART-001\) FILE_HASH/);
  });

  it("treats missing, corrupt or unparseable artifacts as failed checks (exit 1), never a crash", () => {
    const cases: Array<(dir: string) => void> = [
      (d) => writeFileSync(join(d, "run.json"), "{not json"),
      (d) => truncateSync(join(d, "trace.jsonl"), 100),
      (d) => appendFileSync(join(d, "trace.jsonl"), '{"idx": 99}\n'),
      (d) =>
        writeFileSync(
          join(d, "spec.json"),
          readFileSync(join(d, "spec.json"), "utf8").replace('"version":"1"', '"version":"7"'),
        ),
      (d) => writeFileSync(join(d, "manifest.json"), Buffer.from([0xff, 0xfe, 0x00])),
    ];
    for (const tamper of cases) {
      const dir = copyRun();
      tamper(dir);
      const r = runCli(["verify", dir]);
      expect(r.status, tamper.toString()).toBe(1);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/Verdict: FAIL/);
    }
  });

  it("never follows a symlink out of the run, and fails it", () => {
    const dir = copyRun();
    const outside = join(tempDir(), "secret.txt");
    writeFileSync(outside, "outside the run");
    symlinkSync(outside, join(dir, "evidence", "link.txt"));
    const r = runCli(["verify", dir, "--json"]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.failures.map((f: { code: string }) => f.code)).toContain("UNEXPECTED_ENTRY");
    expect(r.stdout).not.toContain("outside the run");
  });

  it("exits 2 when the path is not a run at all, saying why", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file.txt"), "x");
    const cases: Array<[string, RegExp]> = [
      [join(dir, "missing"), /no such run directory/],
      [join(dir, "file.txt"), /not a directory/],
      [dir, /no run files in it/],
    ];
    for (const [ref, message] of cases) {
      const r = runCli(["verify", ref]);
      expect(r.status, ref).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(isCleanError(r)).toBe(true);
    }
    expect(runCli(["verify", runDir, "--policy", "lenient"]).status).toBe(2);
    expect(runCli(["verify", runDir, "--pubkey", join(dir, "file.txt")]).stderr).toMatch(/E_KEY_INVALID/);
  });
});

describe("signing", () => {
  it("keygen -> run --sign -> verify --pubkey passes; another key fails; keygen refuses to overwrite", () => {
    const root = tempDir();
    expect(runCli(["keygen", "--out", join(root, "k1")]).status).toBe(0);
    expect(runCli(["keygen", "--out", join(root, "k2")]).status).toBe(0);
    const again = runCli(["keygen", "--out", join(root, "k1")]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/refusing to overwrite/);
    const signed = demoRun({ root, args: ["--sign", join(root, "k1", "canon-reason.key")] });
    expect(runCli(["verify", signed.runDir, "--pubkey", join(root, "k1", "canon-reason.pub")]).status).toBe(
      0,
    );
    const wrong = runCli(["verify", signed.runDir, "--pubkey", join(root, "k2", "canon-reason.pub")]);
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toMatch(/FAIL +signature/);
    const unsigned = runCli(["verify", runDir, "--pubkey", join(root, "k1", "canon-reason.pub")]);
    expect(unsigned.status).toBe(1);
    expect(unsigned.stdout).toMatch(/SIGNATURE_MISSING/);
    const badKey = runCli(
      demoRunArgs({ question: "q?", root, args: ["--sign", join(root, "k1", "canon-reason.pub")] }),
    );
    expect(badKey.status).toBe(2);
    expect(badKey.stderr).toMatch(/not an Ed25519 private key/);
  });
});
