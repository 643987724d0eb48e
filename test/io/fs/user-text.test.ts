/**
 * The readers of files a user names (src/io/fs/user-text.ts) against a temporary folder, as
 * hostile input: every failure is bad input (exit 2) naming the file, and the line where there is
 * one; nothing that is not a regular file is opened, and a file too large to read whole is refused
 * from its size alone, before a byte of it is read.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  MAX_USER_TEXT_BYTES,
  readJsonLines,
  readUserJson,
  readUserText,
} from "../../../src/io/fs/user-text.js";
import { thrown } from "../../helpers/canon-error.js";
import { isCleanError, runCli } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/tmp.js";

function file(name: string, bytes: string | Uint8Array): string {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  return path;
}

/** A sparse file of `size` bytes: no disk is used, and a reader that read it would be slow. */
function sparse(size: number): string {
  const path = file("huge.json", "");
  truncateSync(path, size);
  return path;
}

describe("readUserText", () => {
  it("strips a byte order mark and keeps the text otherwise as written", () => {
    const path = file("a.txt", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("é\r\n")]));
    expect(readUserText(path, "E_USAGE")).toBe("é\r\n");
  });

  it("refuses invalid UTF-8 naming the file, the line and the byte offset", () => {
    const path = file("bad.txt", Buffer.from([0x61, 0x0a, 0x62, 0xff]));
    const error = thrown(() => readUserText(path, "E_USAGE"));
    expect(error).toMatchObject({ code: "E_ENCODING", exitCode: 2, where: { file: path, line: 2 } });
    expect(error.message).toMatch(/byte offset 3/);
  });

  it("refuses a file larger than the limit from its size, before reading it", () => {
    const path = sparse(MAX_USER_TEXT_BYTES + 1);
    const error = thrown(() => readUserText(path, "E_SUITE_INVALID", "suite"));
    expect(error).toMatchObject({
      code: "E_SUITE_INVALID",
      exitCode: 2,
      where: { file: path, field: "suite" },
    });
    expect(error.message).toMatch(new RegExp(`${MAX_USER_TEXT_BYTES + 1} bytes`));
  });

  it("reads an empty file as empty text", () => {
    expect(readUserText(file("empty.txt", ""), "E_USAGE")).toBe("");
  });

  it.each([
    [
      "a folder",
      () => {
        const dir = join(tempDir(), "dir");
        mkdirSync(dir);
        return dir;
      },
    ],
    [
      "a FIFO (named pipe)",
      () => {
        const path = join(tempDir(), "fifo");
        execFileSync("mkfifo", [path]);
        return path;
      },
    ],
    ["a device", () => "/dev/zero"],
  ])("refuses %s without opening it", (kind, make) => {
    const path = make();
    const error = thrown(() => readUserText(path, "E_USAGE"));
    expect(error).toMatchObject({ exitCode: 2, where: { file: path } });
    expect(error.message).toContain(kind);
  });

  it("names a missing file", () => {
    const path = join(tempDir(), "absent.json");
    expect(thrown(() => readUserText(path, "E_USAGE"))).toMatchObject({ exitCode: 2 });
  });
});

describe("readUserJson and readJsonLines", () => {
  it("name the line of a JSON syntax error", () => {
    const error = thrown(() => readUserJson(file("spec.json", '{\n  "a": 1,\n  nope\n}')));
    expect(error).toMatchObject({ code: "E_USAGE", exitCode: 2 });
    expect(error.where.line).toBe(3);
    const lines = thrown(() => readJsonLines(file("q.jsonl", '{"a":1}\n\n{nope\n'), "E_SUITE_INVALID"));
    expect(lines).toMatchObject({ code: "E_SUITE_INVALID", where: { line: 3 } });
  });

  it("refuse a lone surrogate, naming its field", () => {
    const error = thrown(() => readUserJson(file("spec.json", '{"question":"\\ud800"}')));
    expect(error).toMatchObject({ exitCode: 2, where: { field: "question" } });
  });

  it("skip blank lines and keep each value's line number", () => {
    const path = file("q.jsonl", '\n{"a":1}\n  \n[2]\n');
    expect(readJsonLines(path, "E_USAGE")).toEqual([
      { line: 2, value: { a: 1 } },
      { line: 4, value: [2] },
    ]);
  });
});

describe("the CLI given a spec file over the size limit", () => {
  it("exits 2 with one line naming the file, and reads none of it", () => {
    const path = sparse(MAX_USER_TEXT_BYTES + 1);
    const result = runCli(["run", "--spec", path, "--artifacts-dir", tempDir(), "--json"], {
      timeoutMs: 60_000,
    });
    expect(result.status).toBe(2);
    expect(isCleanError(result)).toBe(true);
    expect(result.stderr).toContain(path);
    expect(result.stderr).toMatch(/bytes/);
  });
});
