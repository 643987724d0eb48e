/**
 * The run writer (src/io/runs/run-writer.ts): in process against temporary roots (publish,
 * idempotence, repair, the signature rule, refusals, hostile ids and paths), and through the
 * CLI (repair of real damage, concurrent publishers, crash debris).
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/core/errors.js";
import { holdsExactly, writeRun } from "../../../src/io/runs/run-writer.js";
import { DEMO_CORPUS, runCli, runCliAsync } from "../../helpers/cli.js";
import { demoRun, demoRunArgs, DEMO_QUESTION as QUESTION } from "../../helpers/demo-run.js";
import { tempDir, writeFiles } from "../../helpers/tmp.js";

const runAsync = async (root: string): Promise<number> => (await runCliAsync(demoRunArgs({ root }))).status;

/** Every entry under `dir` outside volatile/: files with their bytes, directories, symlinks. */
function listing(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (rel === "volatile") continue;
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) out[rel] = "symlink";
    else if (entry.isDirectory()) Object.assign(out, { [rel]: "dir" }, listing(path, `${rel}/`));
    else out[rel] = readFileSync(path, "latin1");
  }
  return out;
}

/** A pid that is certainly not a live process: a child that already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "0"]);
  return child.pid as number;
}

describe("writeRun: repair, concurrency, debris", () => {
  it("rerunning over a damaged run replaces it with a correct one", () => {
    const root = tempDir();
    const first = demoRun({ root });
    const evidence = join(first.runDir, "evidence");
    const anEvidence = join(evidence, readdirSync(evidence)[0] as string);
    const damages: Array<[string, () => void]> = [
      ["an evidence file changed", () => writeFileSync(anEvidence, "tampered")],
      ["an evidence file removed", () => rmSync(anEvidence)],
      ["an extra file", () => writeFileSync(join(first.runDir, "extra.json"), "{}\n")],
      ["an empty directory", () => mkdirSync(join(first.runDir, "provenance", "empty"))],
      [
        "a symlink instead of a file",
        () => {
          const answer = join(first.runDir, "answer.json");
          const copy = join(root, "answer-copy.json");
          writeFileSync(copy, readFileSync(answer));
          rmSync(answer);
          symlinkSync(copy, answer);
        },
      ],
    ];
    const before = listing(first.runDir);
    for (const [name, damage] of damages) {
      damage();
      expect(listing(first.runDir), name).not.toEqual(before);
      const again = runCli(demoRunArgs({ root }));
      expect(again.status, name).toBe(0);
      expect(listing(first.runDir), name).toEqual(before);
      expect(runCli(["verify", first.runId, "--artifacts-dir", root]).status, name).toBe(0);
      expect(readdirSync(join(root, "runs")), name).toEqual([first.runId]);
    }
    // volatile/ is never compared: a changed timing file does not trigger a rewrite.
    const timings = join(first.runDir, "volatile", "timings.json");
    writeFileSync(timings, "{}\n");
    expect(demoRun({ root }).runId).toBe(first.runId);
    expect(readFileSync(timings, "utf8")).toBe("{}\n");
  });

  it("several identical runs finishing together publish one run, all exiting 0", async () => {
    for (let round = 0; round < 3; round++) {
      const root = tempDir();
      // Round 2 races over a damaged run already in place.
      if (round === 2) {
        const first = demoRun({ root });
        writeFileSync(join(first.runDir, "answer.json"), "damaged");
      }
      const codes = await Promise.all(Array.from({ length: 6 }, () => runAsync(root)));
      expect(codes, `round ${round}`).toEqual([0, 0, 0, 0, 0, 0]);
      const runs = readdirSync(join(root, "runs"));
      expect(runs, `round ${round}`).toHaveLength(1);
      expect(runCli(["verify", runs[0] as string, "--artifacts-dir", root]).status, `round ${round}`).toBe(0);
    }
  }, 30_000);

  it("eval --workers 2 with a duplicated question publishes the shared run once", () => {
    const dir = tempDir();
    writeFiles(dir, {
      "dup/suite.json": JSON.stringify({ corpus: DEMO_CORPUS, name: "dup", version: "1" }),
      "dup/problems.jsonl": [1, 2, 3, 4]
        .map((i) => JSON.stringify({ case_id: `c${i}`, description: QUESTION }))
        .join("\n"),
    });
    const artifacts = tempDir();
    const r = runCli([
      "eval",
      "--suite",
      join(dir, "dup"),
      "--artifacts-dir",
      artifacts,
      "--out",
      join(artifacts, "out"),
      "--workers",
      "2",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const runs = readdirSync(join(artifacts, "runs"));
    expect(runs).toHaveLength(1);
    expect(runCli(["verify", runs[0] as string, "--artifacts-dir", artifacts]).status).toBe(0);
  });

  it("removes stale crash debris on the next write and keeps a live writer's temporaries", () => {
    const root = tempDir();
    const dead = deadPid();
    const live = process.pid;
    const shard = join(root, "store", "sha256", "ab");
    const refs = join(root, "store", "refs", "index");
    const id = `run_v1_${"a".repeat(64)}`;
    const planted = {
      deadTmp: join(root, "runs", `.tmp-${id}-${dead}-0badc0de`),
      deadTrash: join(root, "runs", `.trash-${id}-${dead}-0badc0de`),
      deadObject: join(shard, `${"c".repeat(62)}.tmp-${dead}-0badc0de`),
      deadRef: join(refs, `${"d".repeat(64)}.tmp-${dead}-0badc0de`),
      oldTmp: join(root, "runs", `.tmp-${id}-${live}-00000001`),
      liveTmp: join(root, "runs", `.tmp-${id}-${live}-00000002`),
      liveObject: join(shard, `${"c".repeat(62)}.tmp-${live}-00000003`),
    };
    for (const dir of [planted.deadTmp, planted.deadTrash, planted.oldTmp, planted.liveTmp])
      writeFiles(dir, { "spec.json": "half" });
    mkdirSync(shard, { recursive: true });
    mkdirSync(refs, { recursive: true });
    for (const file of [planted.deadObject, planted.deadRef, planted.liveObject]) writeFileSync(file, "half");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(planted.oldTmp, twoHoursAgo, twoHoursAgo);

    expect(demoRun({ root }).runId).toMatch(/^run_v1_[0-9a-f]{64}$/);
    for (const gone of ["deadTmp", "deadTrash", "deadObject", "deadRef", "oldTmp"] as const)
      expect(existsSync(planted[gone]), gone).toBe(false);
    for (const kept of ["liveTmp", "liveObject"] as const) expect(existsSync(planted[kept]), kept).toBe(true);
  });
});

describe("writeRun in process", () => {
  const run = (extra: Record<string, string> = {}) =>
    new Map<string, Uint8Array>(
      Object.entries({ "manifest.json": "{}\n", "spec.json": "{}\n", "evidence/a.txt": "ay", ...extra }).map(
        ([k, v]) => [k, Buffer.from(v)],
      ),
    );
  const ID = `run_v1_${"a".repeat(64)}`;
  const entries = (root: string) => readdirSync(join(root, "runs")).sort();

  it("publishes runs/<id> whole with its volatile files; the same files again are not written", () => {
    const root = tempDir();
    const first = writeRun(root, ID, run(), { volatile: { timings: { prepare_ms: 1 } } });
    expect(first).toEqual({ runDir: join(root, "runs", ID), created: true });
    expect(readFileSync(join(first.runDir, "evidence", "a.txt"), "utf8")).toBe("ay");
    expect(JSON.parse(readFileSync(join(first.runDir, "volatile", "timings.json"), "utf8"))).toEqual({
      prepare_ms: 1,
    });
    expect(holdsExactly(first.runDir, run())).toBe(true);
    expect(writeRun(root, ID, run(), { volatile: { timings: { prepare_ms: 2 } } })).toEqual({
      runDir: first.runDir,
      created: false,
    });
    expect(entries(root)).toEqual([ID]);
  });

  it("replaces a damaged or differing run in place, leaving no temporary or trash behind", () => {
    const root = tempDir();
    const { runDir } = writeRun(root, ID, run());
    writeFileSync(join(runDir, "extra.json"), "{}");
    expect(holdsExactly(runDir, run())).toBe(false);
    expect(writeRun(root, ID, run()).created).toBe(true);
    expect(holdsExactly(runDir, run())).toBe(true);
    expect(writeRun(root, ID, run({ "spec.json": '{"other":1}\n' })).created).toBe(true);
    expect(readFileSync(join(runDir, "spec.json"), "utf8")).toBe('{"other":1}\n');
    expect(entries(root)).toEqual([ID]);
  });

  it("an unsigned write keeps the same run signed, and refuses to replace a different signed run", () => {
    const root = tempDir();
    const signed = run({ "signature.json": "{}\n" });
    const { runDir } = writeRun(root, ID, signed);
    expect(writeRun(root, ID, run())).toEqual({ runDir, created: false, signatureKept: true });
    expect(() => writeRun(root, ID, run({ "spec.json": '{"other":1}\n' }))).toThrow(InputError);
    expect(holdsExactly(runDir, signed)).toBe(true);
    expect(entries(root)).toEqual([ID]);
  });

  it("beforeReplace can refuse: the run in place stays and nothing is left over", () => {
    const root = tempDir();
    const { runDir } = writeRun(root, ID, run());
    const refuse = () => {
      throw new Error("keep the sound run");
    };
    expect(() => writeRun(root, ID, run({ "spec.json": "[]\n" }), { beforeReplace: refuse })).toThrow(
      "keep the sound run",
    );
    expect(holdsExactly(runDir, run())).toBe(true);
    expect(entries(root)).toEqual([ID]);
  });

  it.each([
    ["a run id that climbs out", "../escape", {}],
    ["a run id with a separator", "a/b", {}],
    ["an empty run id", "", {}],
    ["a run id of ..", "..", {}],
    ["a file path that climbs out", ID, { "../escape.json": "x" }],
    ["a file path through ..", ID, { "evidence/../../escape.json": "x" }],
    ["an absolute file path", ID, { "/tmp/escape.json": "x" }],
    ["a file path with a backslash", ID, { "evidence\\..\\x": "x" }],
    ["a file under volatile/", ID, { "volatile/timings.json": "{}" }],
  ])("refuses %s, writing nothing anywhere", (_name, id, extra) => {
    const parent = tempDir();
    const root = join(parent, "art");
    expect(() => writeRun(root, id, run(extra))).toThrow(/refusing to write/);
    expect(readdirSync(parent).filter((n) => n !== "art")).toEqual([]);
    expect(existsSync(join(root, "runs")) ? entries(root).filter((n) => !n.startsWith(".")) : []).toEqual([]);
  });

  it("refuses a run without a manifest", () => {
    const files = run();
    files.delete("manifest.json");
    expect(() => writeRun(tempDir(), ID, files)).toThrow(/without a manifest/);
  });
});
