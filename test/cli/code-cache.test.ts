/** The launcher's V8 code cache (src/cli/launcher.ts): this user's, optional, and never trusted for output. */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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
});
