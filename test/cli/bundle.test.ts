import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DEMO_CORPUS, isCleanError, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

describe("export / import", () => {
  it("an exported run imported into an empty artifacts root verifies and replays, frozen and live", () => {
    const source = tempDir();
    const out = JSON.parse(
      runCli([
        "run",
        "What does 茶道 mean in Japanese?",
        "--corpus",
        DEMO_CORPUS,
        "--artifacts-dir",
        source,
        "--json",
      ]).stdout,
    );
    const bundle = join(tempDir(), "run.crbundle");
    const exported = runCli(["export", out.run_id, "-o", bundle, "--artifacts-dir", source, "--json"]);
    expect(exported.status).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ runId: out.run_id, objects: 2 });

    const target = tempDir();
    const imported = runCli(["import", bundle, "--artifacts-dir", target, "--json"]);
    expect(imported.stderr).toBe("");
    expect(imported.status).toBe(0);
    const result = JSON.parse(imported.stdout);
    expect(result).toMatchObject({ runId: out.run_id, created: true, verification: { verdict: "pass" } });
    expect(runCli(["verify", out.run_id, "--artifacts-dir", target]).status).toBe(0);
    expect(runCli(["replay", out.run_id, "--artifacts-dir", target]).status).toBe(0);
    expect(runCli(["replay", out.run_id, "--live", "--artifacts-dir", target]).status).toBe(0);
    // Importing again is a no-op.
    expect(JSON.parse(runCli(["import", bundle, "--artifacts-dir", target, "--json"]).stdout).created).toBe(
      false,
    );
  });

  it("rejects corrupt, foreign or hostile bundles with exit 2 and writes nothing", () => {
    const dir = tempDir();
    const source = tempDir();
    const out = JSON.parse(
      runCli([
        "run",
        "When did the Golden Gate Bridge open?",
        "--corpus",
        DEMO_CORPUS,
        "--artifacts-dir",
        source,
        "--json",
      ]).stdout,
    );
    const good = join(dir, "good.crbundle");
    runCli(["export", out.run_dir, "-o", good]);
    const raw = gunzipSync(readFileSync(good));
    const record = (header: object, bytes = Buffer.alloc(0)) => {
      const head = Buffer.from(JSON.stringify(header));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(head.length);
      return Buffer.concat([length, head, bytes]);
    };
    const traversal = Buffer.concat([
      Buffer.from("CRBUNDLE1\n"),
      record({ kind: "run", run_id: out.run_id }),
      record({ kind: "file", path: "../../x.js", size: 2 }, Buffer.from("hi")),
    ]);
    const objectFlip = Buffer.from(raw);
    objectFlip[objectFlip.length - 10] = (objectFlip[objectFlip.length - 10] as number) ^ 1;
    const cases: Array<[string, Buffer, RegExp]> = [
      ["not gzip", Buffer.from("hello"), /not a gzip file/],
      ["not a bundle", gzipSync("hello world"), /not a canon-reason bundle/],
      ["truncated", gzipSync(raw.subarray(0, raw.length - 100)), /truncated/],
      ["path traversal", gzipSync(traversal), /refusing path/],
      ["object bytes changed", gzipSync(objectFlip), /does not match its sha256/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir, `${name}.crbundle`);
      writeFileSync(file, bytes);
      const target = tempDir();
      const r = runCli(["import", file, "--artifacts-dir", target]);
      expect(r.status, name).toBe(2);
      expect(r.stderr, name).toMatch(message);
      expect(isCleanError(r)).toBe(true);
      expect(runCli(["verify", out.run_id, "--artifacts-dir", target]).status, name).toBe(2);
    }
    expect(runCli(["import", join(dir, "missing.crbundle")]).status).toBe(2);
    expect(runCli(["export", join(dir, "nope"), "-o", join(dir, "x")]).status).toBe(2);
  });

  it("refuses hostile record headers and a run filed under another id", () => {
    const source = tempDir();
    const out = JSON.parse(
      runCli([
        "run",
        "When did the Golden Gate Bridge open?",
        "--corpus",
        DEMO_CORPUS,
        "--artifacts-dir",
        source,
        "--json",
      ]).stdout,
    );
    const dir = tempDir();
    const good = join(dir, "good.crbundle");
    runCli(["export", out.run_dir, "-o", good]);
    const raw = gunzipSync(readFileSync(good));
    const otherId = `run_v1_${"0".repeat(64)}`;
    const renamed = Buffer.from(raw.toString("latin1").replace(out.run_id, otherId), "latin1");
    const nullHeader = Buffer.concat([
      Buffer.from("CRBUNDLE1\n"),
      Buffer.from([4, 0, 0, 0]),
      Buffer.from("null"),
    ]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ["a null record header", gzipSync(nullHeader), /invalid record header/],
      ["a run filed under another id", gzipSync(renamed), /run\.json does not name the run/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir, `${name}.crbundle`);
      writeFileSync(file, bytes);
      const target = tempDir();
      const r = runCli(["import", file, "--artifacts-dir", target]);
      expect(r.status, name).toBe(2);
      expect(r.stderr, name).toMatch(message);
      expect(isCleanError(r), name).toBe(true);
      expect(existsSync(join(target, "runs")), name).toBe(false);
    }
    const directory = runCli(["import", dir]);
    expect(directory.status).toBe(2);
    expect(directory.stderr).toMatch(/cannot read \(EISDIR\)/);
  });

  it("replaces a damaged run with the same id, but never a differing run that verifies", () => {
    const source = tempDir();
    const out = JSON.parse(
      runCli([
        "run",
        "When did the Golden Gate Bridge open?",
        "--corpus",
        DEMO_CORPUS,
        "--artifacts-dir",
        source,
        "--json",
      ]).stdout,
    );
    const bundle = join(tempDir(), "run.crbundle");
    runCli(["export", out.run_dir, "-o", bundle]);
    // A damaged run in place (e.g. left by a corrupt bundle) does not block a good bundle.
    const target = tempDir();
    expect(runCli(["import", bundle, "--artifacts-dir", target]).status).toBe(0);
    const manifest = join(target, "runs", out.run_id, "manifest.json");
    const good = readFileSync(manifest, "utf8");
    writeFileSync(manifest, good.replace('"version":"1"', '"version":"1" '));
    expect(runCli(["verify", out.run_id, "--artifacts-dir", target]).status).not.toBe(0);
    const repaired = runCli(["import", bundle, "--artifacts-dir", target, "--json"]);
    expect(repaired.status).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ created: true, verification: { verdict: "pass" } });
    expect(readFileSync(manifest, "utf8")).toBe(good);

    // A signed run that verifies is not replaced by the unsigned bundle of the same run.
    const signed = tempDir();
    expect(runCli(["keygen", "--out", join(signed, "k")]).status).toBe(0);
    const sign = ["--sign", join(signed, "k", "canon-reason.key")];
    const question = ["run", "When did the Golden Gate Bridge open?", "--corpus", DEMO_CORPUS];
    expect(runCli([...question, "--artifacts-dir", signed, ...sign]).status).toBe(0);
    const signature = join(signed, "runs", out.run_id, "signature.json");
    expect(existsSync(signature)).toBe(true);
    const r = runCli(["import", bundle, "--artifacts-dir", signed]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/a different run with this id already exists and verifies/);
    expect(isCleanError(r)).toBe(true);
    expect(existsSync(signature)).toBe(true);
  });

  it("exits 2 when exporting a directory that is not a run, or a run whose run.json is corrupt", () => {
    const notARun = runCli(["export", tempDir(), "-o", join(tempDir(), "x.crbundle")]);
    expect(notARun.status).toBe(2);
    expect(notARun.stderr).toMatch(/no run files in it/);
    const corrupt = tempDir();
    writeFileSync(join(corrupt, "run.json"), "{ not json");
    const r = runCli(["export", corrupt, "-o", join(tempDir(), "x.crbundle")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/run\.json is missing or unreadable/);
    expect(isCleanError(r)).toBe(true);
  });
});
