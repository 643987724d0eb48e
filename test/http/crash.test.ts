/**
 * SIGKILL while runs are being created (docs/design.md §4: a crash never leaves something at
 * runs/<id> that does not verify). The real `canon-reason serve` process is killed with
 * requests in flight, once from outside and at enumerated file-system operations through the
 * crash preload; after a restart every listed run verifies, every run on disk is listed, and
 * nothing partial is visible.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CLI, REPO } from "../helpers/cli.js";
import { call, DEMO_ROOT, demoSpec } from "../helpers/http.js";
import { tempDir } from "../helpers/tmp.js";

const PRELOAD = fileURLToPath(new URL("../helpers/crash-preload.mjs", import.meta.url));
const RUN_DIR = /^run_v1_[0-9a-f]{64}$/;

interface Serve {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

/** Starts `canon-reason serve` on an ephemeral port and waits for its "listening" log line. */
function serve(root: string, env: Record<string, string> = {}, preload = false): Promise<Serve> {
  const args = [...(preload ? ["--import", PRELOAD] : []), CLI, "serve", "--port", "0"];
  args.push("--artifacts-dir", root, "--corpus-root", DEMO_ROOT);
  const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: "pipe" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (d: string) => {
      out += d;
      const url = /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1];
      if (url !== undefined) resolve({ child, url, exited });
    });
    child.once("exit", (code) => reject(new Error(`serve exited (${code}) before listening: ${out}`)));
  });
}

const post = (url: string, seed: number) =>
  call(url, "POST", "/v1/runs", { spec: demoSpec("What causes tides?"), seed }).catch(() => null);

/** After a restart: every listed run verifies and every run directory on disk is listed. */
async function expectConsistent(root: string): Promise<number> {
  const server = await serve(root);
  try {
    const listed: string[] = (await call(server.url, "GET", "/v1/runs?limit=100"))
      .json()
      .runs.map((r: { run_id: string }) => r.run_id);
    const onDisk = readdirSync(join(root, "runs")).filter((n) => RUN_DIR.test(n));
    expect([...listed].sort()).toEqual([...onDisk].sort());
    for (const id of listed) {
      const verified = await call(server.url, "POST", `/v1/runs/${id}/verify`);
      expect(verified.json().passed, id).toBe(true);
    }
    return listed.length;
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
  }
}

describe("crash while creating runs", () => {
  it("SIGKILL with requests in flight leaves only whole, listed runs", async () => {
    const root = tempDir("canon-crash-");
    let seed = 0;
    for (let round = 0; round < 2; round++) {
      const server = await serve(root);
      const inFlight = Array.from({ length: 12 }, () => post(server.url, seed++));
      // Killed as soon as the first answer is back: the others are somewhere in the pipeline.
      await Promise.race(inFlight);
      server.child.kill("SIGKILL");
      await server.exited;
      await Promise.all(inFlight);
    }
    const count = await expectConsistent(root);
    expect(count).toBeGreaterThan(0);
  });

  it("SIGKILL at enumerated file-system operations of a run being published", async () => {
    const root = tempDir("canon-crash-at-");
    // The preload counts writes, renames, mkdirs and removals from process start: start-up
    // takes 4, a first run about 44 more (snapshot, index, run files, the publishing rename),
    // so these points land all through snapshotting, indexing and writing the run.
    for (const at of [6, 11, 16, 21, 26, 31, 36, 41, 46]) {
      const server = await serve(root, { CRASH_AT: String(at) }, true).catch(() => null);
      if (server === null) continue; // died before listening: still a crash point to recover from
      await Promise.all([post(server.url, 1000 + at), post(server.url, 2000 + at)]);
      server.child.kill("SIGKILL");
      await server.exited;
    }
    await expectConsistent(root);
  });
});
