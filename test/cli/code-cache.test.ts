/** The launcher's V8 code cache (src/cli/launcher.ts): this user's, optional, and never trusted for output. */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const PKG = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

describe("the command line's code cache", () => {
  it("is written at the first start, private, one per bundle; later starts and a damaged one give the same output", () => {
    const dir = mkdtempSync(join(tmpdir(), "canon-code-cache-"));
    const env = { CANON_REASON_CACHE_DIR: dir };
    const first = runCli(["--version"], { env });
    expect(first).toMatchObject({ status: 0, stdout: `${PKG.version}\n` });
    const files = readdirSync(join(dir, "v8"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^cli-help\\.js-[0-9a-f]{16}-${process.version}-${process.arch}$`));
    const file = join(dir, "v8", files[0] as string);
    if (process.platform !== "win32") expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(runCli(["--version"], { env })).toMatchObject({ status: 0, stdout: `${PKG.version}\n` });
    // A damaged cache is refused by V8, compiled from source, and replaced.
    writeFileSync(file, "not a code cache");
    expect(runCli(["--version"], { env })).toMatchObject({ status: 0, stdout: `${PKG.version}\n` });
    expect(readFileSync(file).length).toBeGreaterThan(1000);
    // Another command has a bundle, and so a cache, of its own, written by a run, not by its help.
    expect(runCli(["init", "--help"], { env }).status).toBe(0);
    expect(readdirSync(join(dir, "v8"))).toHaveLength(1);
    const work = mkdtempSync(join(tmpdir(), "canon-code-cache-init-"));
    expect(runCli(["init"], { env, cwd: work }).status).toBe(0);
    const after = readdirSync(join(dir, "v8"));
    expect(after).toHaveLength(2);
    expect(after.filter((name) => name.startsWith("cli-init.js-"))).toHaveLength(1);
  });

  it("is neither read nor written with CANON_REASON_CODE_CACHE=off", () => {
    const dir = mkdtempSync(join(tmpdir(), "canon-code-cache-"));
    const r = runCli(["--version"], { env: { CANON_REASON_CACHE_DIR: dir, CANON_REASON_CODE_CACHE: "off" } });
    expect(r).toMatchObject({ status: 0, stdout: `${PKG.version}\n` });
    expect(readdirSync(dir)).toEqual([]);
  });

  /** The cache file `--version` would use under `dir`, found by letting a first start write it. */
  function helpCacheName(): string {
    const dir = mkdtempSync(join(tmpdir(), "canon-code-cache-"));
    expect(runCli(["--version"], { env: { CANON_REASON_CACHE_DIR: dir } }).status).toBe(0);
    return readdirSync(join(dir, "v8"))[0] as string;
  }

  it.each([
    ["a FIFO", (path: string) => execFileSync("mkfifo", [path])],
    ["a folder", (path: string) => mkdirSync(path)],
    ["a symbolic link to /dev/zero", (path: string) => execFileSync("ln", ["-s", "/dev/zero", path])],
  ])("where the cache file should be, %s is never read and never hangs the command", (_kind, make) => {
    const name = helpCacheName();
    const dir = mkdtempSync(join(tmpdir(), "canon-code-cache-"));
    mkdirSync(join(dir, "v8"));
    make(join(dir, "v8", name));
    const r = runCli(["--version"], { env: { CANON_REASON_CACHE_DIR: dir }, timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: 0, stdout: `${PKG.version}\n`, stderr: "" });
  });

  it.each([
    ["a relative CANON_REASON_CACHE_DIR", () => "relative/cache"],
    [
      "a cache folder that is a file",
      () => {
        const file = join(mkdtempSync(join(tmpdir(), "canon-code-cache-")), "file");
        writeFileSync(file, "x");
        return file;
      },
    ],
    [
      "a cache folder that cannot be written",
      () => {
        const dir = mkdtempSync(join(tmpdir(), "canon-code-cache-"));
        mkdirSync(join(dir, "v8"));
        chmodSync(join(dir, "v8"), 0o500);
        return dir;
      },
    ],
  ])("with %s, the command runs and writes nothing it should not", (_kind, make) => {
    const cwd = mkdtempSync(join(tmpdir(), "canon-code-cache-cwd-"));
    const r = runCli(["--version"], { env: { CANON_REASON_CACHE_DIR: make() }, cwd, timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: 0, stdout: `${PKG.version}\n`, stderr: "" });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("removes a temporary cache file a killed process left behind, and not one still being written", () => {
    const name = helpCacheName();
    const dir = mkdtempSync(join(tmpdir(), "canon-code-cache-"));
    mkdirSync(join(dir, "v8"));
    const stale = join(dir, "v8", `${name}.tmp-999999`);
    const fresh = join(dir, "v8", `${name}.tmp-999998`);
    writeFileSync(stale, "half a cache");
    writeFileSync(fresh, "being written");
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stale, hourAgo, hourAgo);
    expect(runCli(["--version"], { env: { CANON_REASON_CACHE_DIR: dir } }).status).toBe(0);
    expect(readdirSync(join(dir, "v8")).sort()).toEqual([name, `${name}.tmp-999998`].sort());
  });
});
