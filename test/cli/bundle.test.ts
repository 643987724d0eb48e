import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../helpers/cli.js";
import { demoRun } from "../helpers/demo-run.js";
import { readTarGz, type TarEntry, tarOf } from "../helpers/tar.js";
import { tempDir } from "../helpers/tmp.js";

describe("export / import", () => {
  it("an exported run imported into an empty artifacts root verifies and replays, frozen and live", () => {
    const { root: source, json: out } = demoRun({ question: "What does 茶道 mean in Japanese?" });
    const bundle = join(tempDir(), "run.tar.gz");
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
    const { json: out } = demoRun();
    const good = join(dir, "good.tar.gz");
    expect(runCli(["export", out.run_dir, "-o", good]).status).toBe(0);
    const entries = readTarGz(readFileSync(good));
    const [header, ...rest] = entries;
    const runFiles = rest.filter((e) => e.path.startsWith("run/"));
    const object = rest.find((e) => e.path.startsWith("store/")) as { path: string; bytes: Buffer };
    const flipped = Buffer.from(object.bytes);
    flipped[10] = (flipped[10] as number) ^ 1;
    const raw = tarOf(entries);
    const withEntries = (...extra: TarEntry[]) =>
      gzipSync(tarOf([header as TarEntry, ...runFiles, ...extra]));
    const cases: Array<[string, Buffer, RegExp]> = [
      ["not gzip", Buffer.from("hello"), /not a gzip file/],
      ["empty", Buffer.alloc(0), /not a gzip file|truncated/],
      ["garbage", randomBytes(4096), /not a gzip file/],
      ["truncated gzip", readFileSync(good).subarray(0, 2000), /truncated/],
      ["truncated tar", gzipSync(raw.subarray(0, raw.length - 5000)), /Truncated|truncated/],
      ["not a tar", gzipSync("hello world"), /not a valid tar archive|not a canon-reason bundle/],
      [
        "a foreign tar",
        gzipSync(tarOf([{ path: "README", bytes: Buffer.from("hi") }])),
        /not a canon-reason bundle/,
      ],
      ["nested gzip", gzipSync(readFileSync(good)), /not a tar archive inside the gzip/],
      ["path traversal", withEntries({ path: "run/../../x.js", bytes: Buffer.from("hi") }), /refusing path/],
      ["absolute path", withEntries({ path: "/etc/x.json", bytes: Buffer.from("hi") }), /refusing path/],
      [
        "unknown path",
        withEntries({ path: "run/volatile/x.json", bytes: Buffer.from("hi") }),
        /refusing path/,
      ],
      [
        "symlink",
        withEntries({ path: "run/x.json", type: "SymbolicLink", linkpath: "/etc/passwd" }),
        /refusing a symlink/,
      ],
      [
        "hardlink",
        withEntries({ path: "run/x.json", type: "Link", linkpath: "run/spec.json" }),
        /refusing a hardlink/,
      ],
      ["device", withEntries({ path: "run/x.json", type: "CharacterDevice" }), /refusing a device/],
      ["directory", withEntries({ path: "run/evidence/", type: "Directory" }), /refusing a directory/],
      ["duplicate file", withEntries(runFiles[0] as TarEntry), /appears twice/],
      [
        "object bytes changed",
        withEntries({ path: object.path, bytes: flipped }),
        /does not match its sha256/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir, `${name}.tar.gz`);
      writeFileSync(file, bytes);
      const target = tempDir();
      const r = runCli(["import", file, "--artifacts-dir", target]);
      expect(r.status, name).toBe(2);
      expect(r.stderr, name).toMatch(message);
      expect(isCleanError(r), name).toBe(true);
      expect(existsSync(join(target, "runs")), name).toBe(false);
      // No store object, temporary or not, is left behind by a refused bundle.
      const left = existsSync(join(target, "store"))
        ? readdirSync(join(target, "store"), { recursive: true })
        : [];
      expect(
        left.map(String).filter((f) => /[0-9a-f]{62}/.test(f)),
        name,
      ).toEqual([]);
    }
    expect(runCli(["import", join(dir, "missing.tar.gz")]).status).toBe(2);
    expect(runCli(["export", join(dir, "nope"), "-o", join(dir, "x")]).status).toBe(2);
  });

  it("refuses oversized entries and gzip bombs fast, with bounded memory", () => {
    const dir = tempDir();
    const runId = `run_v1_${"0".repeat(64)}`;
    const header = {
      path: "canon-reason-bundle.json",
      bytes: Buffer.from(JSON.stringify({ format: "canon-reason-bundle", version: 1, run_id: runId })),
    };
    const huge = 100 * 1024 ** 2;
    const bombs: Array<[string, Buffer, RegExp]> = [
      // 50 MB of zeros: an empty archive, read only up to its end-of-archive blocks.
      ["zeros", gzipSync(Buffer.alloc(50 * 1024 ** 2)), /not a canon-reason bundle|no bundle header/],
      // A run file claiming 100 MB: refused on its header, before any of it is read.
      [
        "a huge run file",
        gzipSync(
          Buffer.concat([
            tarOf([header, { path: "run/trace.jsonl", claimedSize: huge }], false),
            Buffer.alloc(huge),
          ]),
        ),
        /run\/trace\.jsonl is larger than/,
      ],
      [
        "a huge object",
        gzipSync(tarOf([header, { path: `store/sha256/${"a".repeat(64)}`, claimedSize: 2 ** 40 }], false)),
        /is larger than|exceed \d+ bytes in total/,
      ],
    ];
    // Reports the child's peak RSS on exit, in kB.
    const rss = fileURLToPath(new URL("../helpers/rss-preload.mjs", import.meta.url));
    for (const [name, bytes, message] of bombs) {
      const file = join(dir, `${name}.tar.gz`);
      writeFileSync(file, bytes);
      const started = Date.now();
      const r = runCli(["import", file, "--artifacts-dir", tempDir()], {
        env: { NODE_OPTIONS: `--import=${rss}` },
      });
      expect(Date.now() - started, name).toBeLessThan(5000);
      expect(r.status, name).toBe(2);
      expect(r.stderr, name).toMatch(message);
      const maxRssKb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
      expect(maxRssKb, name).toBeGreaterThan(0);
      expect(maxRssKb, name).toBeLessThan(300 * 1024);
    }
  });

  it("export -o to a directory or an unwritable path is exit 2 and never leaves a partial bundle", () => {
    const { root: source, json: out } = demoRun();
    const dir = tempDir();
    const toDir = runCli(["export", out.run_dir, "-o", dir]);
    expect(toDir.status).toBe(2);
    expect(toDir.stderr).toMatch(/is a folder/);
    expect(isCleanError(toDir)).toBe(true);
    // Renamed into place, a bundle would replace a FIFO (or a device node) itself: refused.
    const fifo = join(tempDir(), "pipe");
    execFileSync("mkfifo", [fifo]);
    const toFifo = runCli(["export", out.run_dir, "-o", fifo]);
    expect(toFifo.status).toBe(2);
    expect(toFifo.stderr).toMatch(/is a FIFO \(named pipe\), not a file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const missing = runCli(["export", out.run_dir, "-o", join(dir, "no", "such", "dir", "x.tar.gz")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot write the bundle \(ENOENT\)/);
    expect(isCleanError(missing)).toBe(true);
    // A failing export leaves an existing bundle at the target as it was, and no temporary.
    const target = join(dir, "run.tar.gz");
    writeFileSync(target, "previous");
    rmSync(join(source, "store", "sha256"), { recursive: true });
    const broken = runCli(["export", out.run_dir, "-o", target]);
    expect(broken.status).toBe(2);
    expect(readFileSync(target, "utf8")).toBe("previous");
    expect(readdirSync(dir)).toEqual(["run.tar.gz"]);
  });

  it("refuses hostile record headers and a run filed under another id", () => {
    const { json: out } = demoRun();
    const dir = tempDir();
    const good = join(dir, "good.tar.gz");
    runCli(["export", out.run_dir, "-o", good]);
    const entries = readTarGz(readFileSync(good));
    const otherId = `run_v1_${"0".repeat(64)}`;
    const rename = (e: { path: string; bytes: Buffer }) =>
      e.path === "canon-reason-bundle.json"
        ? { ...e, bytes: Buffer.from(e.bytes.toString("utf8").replace(out.run_id, otherId)) }
        : e;
    const nullHeader = tarOf([{ path: "canon-reason-bundle.json", bytes: Buffer.from("null") }]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ["a null bundle header", gzipSync(nullHeader), /invalid bundle header/],
      [
        "a run filed under another id",
        gzipSync(tarOf(entries.map(rename))),
        /run\.json does not name the run/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir, `${name}.tar.gz`);
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
    const { json: out } = demoRun();
    const bundle = join(tempDir(), "run.tar.gz");
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

    // A signed run that verifies is not replaced by the unsigned bundle of the same run: kept,
    // signature and all (issue 19: a signature is never dropped silently).
    const signed = tempDir();
    expect(runCli(["keygen", "--out", join(signed, "k")]).status).toBe(0);
    const sign = ["--sign", join(signed, "k", "canon-reason.key")];
    expect(demoRun({ root: signed, args: sign }).runId).toBe(out.run_id);
    const signature = join(signed, "runs", out.run_id, "signature.json");
    expect(existsSync(signature)).toBe(true);
    const before = readFileSync(signature);
    const r = runCli(["import", bundle, "--artifacts-dir", signed, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ published: true, created: false });
    expect(readFileSync(signature)).toEqual(before);
  });

  it("exits 2 when exporting a directory that is not a run, or a run whose run.json is corrupt", () => {
    const notARun = runCli(["export", tempDir(), "-o", join(tempDir(), "x.tar.gz")]);
    expect(notARun.status).toBe(2);
    expect(notARun.stderr).toMatch(/no run files in it/);
    const corrupt = tempDir();
    writeFileSync(join(corrupt, "run.json"), "{ not json");
    const r = runCli(["export", corrupt, "-o", join(tempDir(), "x.tar.gz")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/run\.json is not valid JSON: run `canon-reason verify` on it first/);
    expect(isCleanError(r)).toBe(true);
  });
});
