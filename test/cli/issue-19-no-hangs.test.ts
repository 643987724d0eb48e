/**
 * Issue 19 item 7 and "Not forgeries, found alongside": no hangs, no silent keeps. A FIFO,
 * socket or device anywhere in a run directory, in the store or as a bundle is a finding or a
 * clean refusal, found without opening it (each command runs under a timeout: a hang fails);
 * verify through `serve` keeps /health answering and SIGTERM working; `import` verifies in a
 * staging folder and publishes only a run that passes, keeping no object the run does not
 * reference; a killed import leaves nothing published, and its staging folder is swept.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { createGzip, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, isCleanError, REPO, runCli } from "../helpers/cli.js";
import { demoRun } from "../helpers/demo-run.js";
import { call, DEMO_ROOT } from "../helpers/http.js";
import { readTarGz, type TarEntry, tarOf } from "../helpers/tar.js";
import { tempDir } from "../helpers/tmp.js";

/** Every command here answers in seconds; one that blocks is killed and fails its test. */
const HANG = { timeoutMs: 60_000 };
const isRoot = process.getuid?.() === 0;

let root: string;
let runId: string;
let bundle: string;
let entries: Array<{ path: string; bytes: Buffer }>;

/** A copy of the artifacts root with the run, to damage. */
function copyRoot(): { root: string; runDir: string } {
  const copy = tempDir();
  cpSync(root, copy, { recursive: true });
  return { root: copy, runDir: join(copy, "runs", runId) };
}

const failureCodes = (stdout: string) =>
  JSON.parse(stdout).failures.map((f: { code: string; message: string }) => `${f.code}: ${f.message}`);

/** Every file under `dir` (relative paths), or [] when it does not exist. */
function filesUnder(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

const sockets: Server[] = [];
/**
 * A Unix socket at `path` (kept listening until the file ends): bound at a short path (a socket
 * path is limited to ~100 bytes, a run directory's is longer), then renamed into place.
 */
async function socketAt(path: string): Promise<void> {
  const server = createServer();
  sockets.push(server);
  const short = join(tempDir("s-"), "s");
  await new Promise<void>((resolve) => server.listen(short, resolve));
  renameSync(short, path);
}

beforeAll(() => {
  ({ root, runId } = demoRun());
  bundle = join(tempDir(), "run.tar.gz");
  expect(runCli(["export", runId, "--artifacts-dir", root, "-o", bundle]).status).toBe(0);
  entries = readTarGz(readFileSync(bundle));
});

afterAll(() => {
  for (const s of sockets) s.close();
});

describe("issue 19 not forgeries: special files in a run directory are findings, never opened", () => {
  it("issue 19 not forgeries: a FIFO inside a run directory is a finding; verify does not block in open()", () => {
    const { root: copy, runDir } = copyRoot();
    execFileSync("mkfifo", [join(runDir, "pipe.json")]);
    execFileSync("mkfifo", [join(runDir, "evidence", "deep.txt")]);
    const r = runCli(["verify", runDir, "--json", "--artifacts-dir", copy], HANG);
    expect(r.status, r.stderr).toBe(1);
    const found = failureCodes(r.stdout).join("\n");
    expect(found).toMatch(/pipe\.json.*a FIFO \(named pipe\) \(never opened\)/);
    expect(found).toMatch(/evidence\/deep\.txt.*a FIFO/);
    // inspect, replay and report read runs through the same reader: none of them blocks either.
    for (const args of [
      ["inspect", runDir],
      ["replay", runDir],
      ["report", runDir],
    ]) {
      const other = runCli([...args, "--artifacts-dir", copy], HANG);
      expect(other.status, args[0]).not.toBe(-1);
    }
  });

  it("issue 19 not forgeries: a FIFO in place of a run file (answer.json) is a finding, not a hang", () => {
    const { root: copy, runDir } = copyRoot();
    rmSync(join(runDir, "answer.json"));
    execFileSync("mkfifo", [join(runDir, "answer.json")]);
    const r = runCli(["verify", runDir, "--json", "--artifacts-dir", copy], HANG);
    expect(r.status).toBe(1);
    expect(failureCodes(r.stdout).join("\n")).toMatch(/answer\.json.*a FIFO/);
  });

  it("issue 19 not forgeries: a socket inside a run directory is a finding", async () => {
    const { root: copy, runDir } = copyRoot();
    await socketAt(join(runDir, "provenance", "sock.json"));
    expect(statSync(join(runDir, "provenance", "sock.json")).isSocket()).toBe(true);
    const r = runCli(["verify", runDir, "--json", "--artifacts-dir", copy], HANG);
    expect(r.status).toBe(1);
    expect(failureCodes(r.stdout).join("\n")).toMatch(/provenance\/sock\.json.*a socket \(never opened\)/);
  });

  it.skipIf(!isRoot)(
    "issue 19 not forgeries: a device node (mknod, no symlink) inside a run directory is a finding",
    () => {
      const { root: copy, runDir } = copyRoot();
      // A character device with /dev/zero's numbers: read, it would never end.
      execFileSync("mknod", [join(runDir, "zero.json"), "c", "1", "5"]);
      const r = runCli(["verify", runDir, "--json", "--artifacts-dir", copy], HANG);
      expect(r.status).toBe(1);
      expect(failureCodes(r.stdout).join("\n")).toMatch(/zero\.json.*a device \(never opened\)/);
    },
  );

  it("issue 19 not forgeries: a FIFO in place of a store object is a finding, not a hang", () => {
    const { root: copy, runDir } = copyRoot();
    const shards = join(copy, "store", "sha256");
    const objects = filesUnder(shards).filter((f) => !f.includes(".tmp-"));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      rmSync(join(shards, object));
      execFileSync("mkfifo", [join(shards, object)]);
    }
    const r = runCli(["verify", runDir, "--json", "--artifacts-dir", copy], HANG);
    expect(r.status).toBe(1);
    expect(failureCodes(r.stdout).join("\n")).toMatch(/a FIFO \(named pipe\), not a regular file/);
  });
});

describe("issue 19 not forgeries: verify through serve never blocks the service", () => {
  it("issue 19 not forgeries: a FIFO in a run dir does not freeze /health, and SIGTERM still stops the server", async () => {
    const { root: copy, runDir } = copyRoot();
    execFileSync("mkfifo", [join(runDir, "pipe.json")]);
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--port", "0", "--artifacts-dir", copy, "--corpus-root", DEMO_ROOT],
      { cwd: REPO, stdio: "pipe" },
    );
    try {
      let out = "";
      child.stdout.setEncoding("utf8");
      const url = await new Promise<string>((resolve, reject) => {
        child.once("exit", (c) => reject(new Error(`serve exited ${c}`)));
        child.stdout.on("data", (d: string) => {
          out += d;
          const found = /"url":"(http:\/\/127\.0\.0\.1:[0-9]+)"/.exec(out)?.[1];
          if (found !== undefined) resolve(found);
        });
      });
      const [verified, health, page] = await Promise.all([
        call(url, "POST", `/v1/runs/${runId}/verify`),
        call(url, "GET", "/health"),
        call(url, "GET", `/v1/runs/${runId}/report`),
      ]);
      expect(health.status).toBe(200);
      expect(verified.status).toBe(200);
      expect(verified.json().passed).toBe(false);
      expect(JSON.stringify(verified.json().report.failures)).toMatch(/pipe\.json.*FIFO/);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/Verification FAILED/);
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => resolve(-1), 20_000);
        child.once("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
        child.kill("SIGTERM");
      });
      expect(code).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

/** A gzipped bundle of `list` (tar entries), ending with the two zero blocks. */
const gz = (list: TarEntry[]) => gzipSync(tarOf(list));
const bundleEntries = (): TarEntry[] => entries.map((e) => ({ path: e.path, bytes: e.bytes }));

describe("issue 19 not forgeries: import verifies in staging and keeps only what the run references", () => {
  it("issue 19 not forgeries: a bundle whose run fails verification is reported, exit 1, and nothing is published", () => {
    const damaged = bundleEntries().map((e) =>
      e.path === "run/answer.json"
        ? {
            ...e,
            bytes: Buffer.from(
              Buffer.from(e.bytes as Uint8Array)
                .toString("utf8")
                .replace("1937", "1938"),
            ),
          }
        : e,
    );
    expect(damaged.some((e) => e.path === "run/answer.json")).toBe(true);
    const file = join(tempDir(), "failing.tar.gz");
    writeFileSync(file, gz(damaged));
    const target = tempDir();
    const r = runCli(["import", file, "--artifacts-dir", target, "--json"], HANG);
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ published: false, verification: { verdict: "fail" } });
    const text = runCli(["import", file, "--artifacts-dir", target], HANG);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/not imported: .* fails verification \(nothing published\)/);
    // Nothing in runs/, nothing in the store, no staging folder left.
    expect(filesUnder(join(target, "runs"))).toEqual([]);
    expect(filesUnder(join(target, "store"))).toEqual([]);
    expect(readdirSync(target).filter((n) => n.startsWith(".staging-"))).toEqual([]);
  });

  it("issue 19 not forgeries: import of a ~1 MB bundle with an unreferenced 1 GiB store object keeps nothing of it", async () => {
    const dir = tempDir();
    const file = join(dir, "big.tar.gz");
    const GIB = 1024 ** 3;
    const zeros = Buffer.alloc(1024 ** 2);
    // The name is the real sha256 of 1 GiB of zeros, so the object is well-formed, just unreferenced.
    const hash = createHash("sha256");
    for (let i = 0; i < 1024; i++) hash.update(zeros);
    const name = `store/sha256/${hash.digest("hex")}`;
    const head = tarOf([...bundleEntries(), { path: name, claimedSize: GIB }], false);
    const fd = openSync(file, "w");
    const gzip = createGzip({ level: 1 });
    const done = new Promise<void>((resolve, reject) => {
      gzip.on("data", (chunk: Buffer) => writeSync(fd, chunk));
      gzip.on("end", resolve);
      gzip.on("error", reject);
    });
    const write = async (chunk: Buffer) => {
      if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once("drain", resolve));
    };
    await write(head);
    for (let i = 0; i < 1024; i++) await write(zeros);
    await write(Buffer.alloc(1024));
    gzip.end();
    await done;
    closeSync(fd);
    expect(statSync(file).size).toBeLessThan(8 * 1024 ** 2);
    const target = tempDir();
    const r = runCli(["import", file, "--artifacts-dir", target, "--json"], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ published: true, objects: 2, skipped: 1 });
    const kept = filesUnder(join(target, "store", "sha256"));
    expect(kept).toHaveLength(2);
    expect(kept.some((f) => name.endsWith(f.replace("/", "")))).toBe(false);
    expect(runCli(["verify", runId, "--artifacts-dir", target], HANG).status).toBe(0);
  }, 180_000);

  it("issue 19 not forgeries: an unreferenced object placed before run.json is not kept either", () => {
    const extra = Buffer.from("not pinned by any run\n");
    const name = `store/sha256/${createHash("sha256").update(extra).digest("hex")}`;
    const [header, ...rest] = bundleEntries();
    const file = join(tempDir(), "early.tar.gz");
    writeFileSync(file, gz([header as TarEntry, { path: name, bytes: extra }, ...rest]));
    const target = tempDir();
    const r = runCli(["import", file, "--artifacts-dir", target, "--json"], HANG);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ published: true, objects: 2, skipped: 1 });
    expect(filesUnder(join(target, "store", "sha256"))).toHaveLength(2);
  });

  it("issue 19 not forgeries: a FIFO, socket or device as the bundle file is refused without opening it", async () => {
    const dir = tempDir();
    const fifo = join(dir, "pipe.tar.gz");
    execFileSync("mkfifo", [fifo]);
    const sock = join(dir, "sock.tar.gz");
    await socketAt(sock);
    const cases: Array<[string, string, RegExp]> = [
      ["a FIFO", fifo, /a FIFO \(named pipe\), not a bundle file/],
      ["a socket", sock, /a socket, not a bundle file/],
      ["a device", "/dev/zero", /a device, not a bundle file/],
    ];
    for (const [what, file, message] of cases) {
      const target = tempDir();
      const r = runCli(["import", file, "--artifacts-dir", target], HANG);
      expect(r.status, what).toBe(2);
      expect(r.stderr, what).toMatch(message);
      expect(isCleanError(r), what).toBe(true);
      expect(existsSync(join(target, "runs")), what).toBe(false);
    }
  });

  it("issue 19 not forgeries: an import killed mid-way publishes nothing, and the next import sweeps its staging folder", async () => {
    // A bundle large enough to be caught mid-way: the run plus a referenced-looking 512 MiB object
    // streamed before run.json (so it is staged, not skipped).
    const dir = tempDir();
    const file = join(dir, "slow.tar.gz");
    const [header, ...rest] = bundleEntries();
    const size = 512 * 1024 ** 2;
    const head = tarOf(
      [header as TarEntry, { path: `store/sha256/${"0".repeat(64)}`, claimedSize: size }],
      false,
    );
    const tail = tarOf(rest);
    const fd = openSync(file, "w");
    const gzip = createGzip({ level: 1 });
    const done = new Promise<void>((resolve) => gzip.on("end", resolve));
    gzip.on("data", (chunk: Buffer) => writeSync(fd, chunk));
    const zeros = Buffer.alloc(1024 ** 2);
    const write = async (chunk: Buffer) => {
      if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once("drain", resolve));
    };
    await write(head);
    for (let i = 0; i < size / zeros.length; i++) await write(zeros);
    await write(tail);
    gzip.end();
    await done;
    closeSync(fd);

    const target = tempDir();
    const child = spawn(process.execPath, [CLI, "import", file, "--artifacts-dir", target], {
      cwd: REPO,
      stdio: "ignore",
    });
    // Kill it once its staging folder holds part of the object.
    const staged = await new Promise<boolean>((resolve) => {
      const started = Date.now();
      const poll = setInterval(() => {
        const staging = existsSync(target)
          ? readdirSync(target).find((n) => n.startsWith(".staging-import-"))
          : undefined;
        const partial = staging === undefined ? [] : filesUnder(join(target, staging));
        if (partial.length > 0 || Date.now() - started > 60_000) {
          clearInterval(poll);
          child.kill("SIGKILL");
          resolve(partial.length > 0);
        }
      }, 20);
    });
    await new Promise((resolve) => child.once("exit", resolve));
    expect(staged).toBe(true);
    expect(filesUnder(join(target, "runs"))).toEqual([]);
    expect(filesUnder(join(target, "store"))).toEqual([]);
    expect(readdirSync(target).filter((n) => n.startsWith(".staging-"))).toHaveLength(1);
    // The next import (of the good bundle) sweeps the dead one's staging folder and publishes.
    const r = runCli(["import", bundle, "--artifacts-dir", target], HANG);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(target).filter((n) => n.startsWith(".staging-"))).toEqual([]);
    expect(filesUnder(join(target, "store", "sha256"))).toHaveLength(2);
  }, 180_000);
});
