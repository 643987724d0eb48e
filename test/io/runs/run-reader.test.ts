/**
 * The one run reader (src/io/runs/run-reader.ts) against temporary folders, reading runs as hostile
 * input: a symlink (to a file or a folder outside the run) is never followed, a FIFO or socket
 * never opened (no hang), a file over the size limit or past the total, entry or depth limit
 * never read; each becomes an anomaly the verifier fails, never an exception. A path that is not
 * a folder is E_NOT_A_RUN; a part a command needs that does not parse is E_NOT_A_RUN naming the
 * file. Untrusted JSON (volatile timings) is null rather than an error for anything odd.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import {
  openRun,
  RUN_READ_LIMITS,
  readRunDirectory,
  readRunTimings,
  readUntrustedJson,
  requireParts,
} from "../../../src/io/runs/run-reader.js";
import { thrown } from "../../helpers/canon-error.js";
import { type JobRun, jobRun } from "../../helpers/job-run.js";
import { tempDir, writeFiles } from "../../helpers/tmp.js";

const reasons = (dir: string, limits = RUN_READ_LIMITS) =>
  Object.fromEntries(readRunDirectory(dir, limits).anomalies.map((a) => [a.path, a.reason]));

describe("readRunDirectory", () => {
  it("reads every regular file by relative path, sorted, and skips volatile/ entirely", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "spec.json": "{}",
      "evidence/b.txt": "bee",
      "evidence/a.txt": "ay",
      "volatile/timings.json": "{}",
    });
    const { files, anomalies } = readRunDirectory(dir);
    expect([...files.keys()]).toEqual(["evidence/a.txt", "evidence/b.txt", "spec.json"]);
    expect(Buffer.from(files.get("evidence/b.txt") as Uint8Array).toString()).toBe("bee");
    expect(anomalies).toEqual([]);
  });

  it("never follows a symlink, to a file or to a folder outside the run", () => {
    const outside = tempDir();
    writeFiles(outside, { "secret.txt": "secret", "dir/inner.txt": "inner" });
    const dir = tempDir();
    writeFiles(dir, { "spec.json": "{}" });
    symlinkSync(join(outside, "secret.txt"), join(dir, "answer.json"));
    symlinkSync(join(outside, "dir"), join(dir, "evidence"));
    symlinkSync("../../../../../../etc/passwd", join(dir, "trace.jsonl"));
    const { files, anomalies } = readRunDirectory(dir);
    expect([...files.keys()]).toEqual(["spec.json"]);
    expect(anomalies.map((a) => a.path).sort()).toEqual(["answer.json", "evidence", "trace.jsonl"]);
    for (const a of anomalies) expect(a.reason).toBe("symbolic link (never followed)");
  });

  it("reports a FIFO and a socket without opening them (no hang), and an empty folder", async () => {
    const dir = tempDir();
    writeFiles(dir, { "spec.json": "{}" });
    execFileSync("mkfifo", [join(dir, "pipe.json")]);
    mkdirSync(join(dir, "provenance", "empty"), { recursive: true });
    writeFiles(dir, { "provenance/ok.json": "{}" });
    const server = createServer();
    // Bound at a short path (socket paths are limited to ~100 bytes).
    const socketDir = tempDir("s-");
    await new Promise<void>((done) => server.listen(join(socketDir, "s"), done));
    try {
      symlinkSync(join(socketDir, "s"), join(dir, "link-to-socket"));
      expect(reasons(dir)).toEqual({
        "pipe.json": "a FIFO (named pipe) (never opened)",
        "provenance/empty": "empty directory",
        "link-to-socket": "symbolic link (never followed)",
      });
      // A socket as an entry of the folder read as a run.
      expect(reasons(socketDir)).toEqual({ s: "a socket (never opened)" });
    } finally {
      server.close();
    }
  });

  it("does not read a file over the size limit, past the total limit, past the entry count or too deep", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "a.json": "x".repeat(10),
      "b.json": "x".repeat(10),
      "c.json": "x".repeat(30),
      "d/e/f/g.txt": "deep",
    });
    const limits = { maxFileBytes: 25, maxTotalBytes: 15, maxEntries: 100, maxDepth: 2 };
    const { files, anomalies } = readRunDirectory(dir, limits);
    expect([...files.keys()]).toEqual(["a.json"]);
    expect(Object.fromEntries(anomalies.map((a) => [a.path, a.reason]))).toEqual({
      "b.json": "run exceeds 15 bytes in total (not read)",
      "c.json": "larger than 25 bytes (not read)",
      "d/e/f": "nested too deeply (not read)",
    });
    const few = readRunDirectory(dir, { ...RUN_READ_LIMITS, maxEntries: 2 });
    expect([...few.files.keys()]).toEqual(["a.json", "b.json"]);
    expect(few.anomalies).toEqual([{ path: "c.json", reason: "more than 2 entries in the run (not read)" }]);
  });

  it("reads empty files and bytes that are not UTF-8 as they are (parsing is the view's job)", () => {
    const dir = tempDir();
    writeFiles(dir, { "empty.json": "", "binary.json": new Uint8Array([0xff, 0xfe, 0x00, 0xc3]) });
    const { files } = readRunDirectory(dir);
    expect(files.get("empty.json")?.length).toBe(0);
    expect([...(files.get("binary.json") as Uint8Array)]).toEqual([0xff, 0xfe, 0x00, 0xc3]);
  });

  it("a path that is a file, or is missing, is E_NOT_A_RUN naming it", () => {
    const file = join(tempDir(), "run.json");
    writeFileSync(file, "{}");
    for (const path of [file, join(tempDir(), "missing")]) {
      expect(thrown(() => readRunDirectory(path))).toMatchObject({
        code: "E_NOT_A_RUN",
        exitCode: 2,
        where: { file: path },
      });
    }
  });
});

describe("openRun and requireParts", () => {
  let run: JobRun;
  beforeAll(async () => {
    run = await jobRun();
  });

  it("opens a real run with every part parsed and no problems", () => {
    const opened = openRun(run.runDir);
    expect(opened.problems).toEqual([]);
    expect(opened.anomalies).toEqual([]);
    const parts = requireParts(opened, ["spec", "plan", "trace", "run", "answer", "report"]);
    expect(parts.run.run_id).toBe(run.runId);
  });

  it("a needed part that does not parse, or is invalid UTF-8, is E_NOT_A_RUN naming the file; others are not required", () => {
    for (const [file, bytes] of [
      ["plan.json", Buffer.from("{")],
      ["spec.json", Buffer.from([0xc3, 0x28])],
      ["trace.jsonl", Buffer.alloc(0)],
    ] as const) {
      const dir = tempDir();
      execFileSync("cp", ["-R", `${run.runDir}/.`, dir]);
      writeFileSync(join(dir, file), bytes);
      const opened = openRun(dir);
      expect(opened.problems.length, file).toBeGreaterThan(0);
      expect(() => requireParts(opened, ["spec", "plan", "trace", "run"])).toThrow(
        expect.objectContaining({ code: "E_NOT_A_RUN", message: expect.stringContaining(file) }),
      );
      // A command that does not need the broken part still gets what it asks for.
      expect(requireParts(opened, ["answer"]).answer.run_id).toBe(run.runId);
    }
  });
});

describe("readUntrustedJson / readRunTimings", () => {
  it("is null for a missing, symlinked, FIFO, oversized or unparseable timings file, the value otherwise", () => {
    const dir = tempDir();
    expect(readRunTimings(dir)).toBeNull();
    writeFiles(dir, { "volatile/timings.json": JSON.stringify({ prepare_ms: 1, produce_ms: 2 }) });
    expect(readRunTimings(dir)).toEqual({ prepare_ms: 1, produce_ms: 2 });
    writeFiles(dir, { "volatile/timings.json": JSON.stringify({ prepare_ms: -1 }) });
    expect(readRunTimings(dir)).toBeNull();
    writeFiles(dir, { "volatile/timings.json": "{" });
    expect(readRunTimings(dir)).toBeNull();
    const big = join(dir, "big.json");
    writeFileSync(big, `{"prepare_ms": 1, "pad": "${"x".repeat(1024 * 1024)}"}`);
    expect(readUntrustedJson(big, z.unknown())).toBeNull();
    const fifo = join(dir, "fifo.json");
    execFileSync("mkfifo", [fifo]);
    expect(readUntrustedJson(fifo, z.unknown())).toBeNull();
    const link = join(dir, "link.json");
    symlinkSync(join(dir, "volatile", "timings.json"), link);
    expect(readUntrustedJson(link, z.unknown())).toBeNull();
  });
});
