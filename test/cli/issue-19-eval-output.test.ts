/**
 * Issue 19 item 7 ("Not forgeries, found alongside"): `eval` renamed its three output files
 * separately, so a crash could pair a new cases.jsonl with an old summary.json. Now the three
 * are staged in a folder beside --out and published with one rename. Every crash point of the
 * publishing step is enumerated (test/helpers/crash-preload.mjs): --out always holds the old
 * triple or the new one, never a mix; the next eval sweeps the dead one's staging folder.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, DEMO_CORPUS, isCleanError, REPO, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

const PRELOAD = fileURLToPath(new URL("../helpers/crash-preload.mjs", import.meta.url));

let base: string;
/** The (cases.jsonl, summary.json) pair of the first eval (--top-k 1) and of the second (default). */
let oldPair: [string, string];
let newPair: [string, string];

const pairOf = (out: string): [string, string] => [
  readFileSync(join(out, "cases.jsonl"), "utf8"),
  readFileSync(join(out, "summary.json"), "utf8"),
];

const evalArgs = (dir: string, ...extra: string[]) => [
  "eval",
  "--suite",
  join(dir, "suite"),
  "--artifacts-dir",
  join(dir, "arts"),
  "--out",
  join(dir, "out"),
  "--workers",
  "1",
  ...extra,
];

function evalWithPreload(dir: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", PRELOAD, CLI, ...evalArgs(dir)], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
}

beforeAll(() => {
  base = tempDir();
  mkdirSync(join(base, "suite"));
  writeFileSync(
    join(base, "suite", "suite.json"),
    JSON.stringify({ name: "tiny", version: "1", corpus: DEMO_CORPUS }),
  );
  writeFileSync(
    join(base, "suite", "problems.jsonl"),
    [
      { case_id: "c1", description: "When did the Golden Gate Bridge open?" },
      { case_id: "c2", description: "What causes tides?" },
    ]
      .map((p) => `${JSON.stringify(p)}\n`)
      .join(""),
  );
  const first = runCli(evalArgs(base, "--top-k", "1"));
  expect(first.status, first.stderr).toBe(0);
  oldPair = pairOf(join(base, "out"));
  // A page folder from `report --eval` (its default place) is carried over.
  mkdirSync(join(base, "out", "report"));
  writeFileSync(join(base, "out", "report", "index.html"), "<p>old page</p>");
  const reference = tempDir();
  cpSync(base, reference, { recursive: true });
  const second = runCli(evalArgs(reference));
  expect(second.status, second.stderr).toBe(0);
  newPair = pairOf(join(reference, "out"));
  expect(newPair).not.toEqual(oldPair);
  expect(readFileSync(join(reference, "out", "report", "index.html"), "utf8")).toBe("<p>old page</p>");
  expect(readdirSync(reference).filter((n) => n.startsWith(".staging-"))).toEqual([]);
});

describe("issue 19 not forgeries: eval publishes its output folder with one rename", () => {
  it("issue 19 not forgeries: a crash at any point of publishing never pairs a new cases.jsonl with an old summary.json", () => {
    const counting = tempDir();
    cpSync(base, counting, { recursive: true });
    const countFile = join(tempDir(), "count");
    const counted = evalWithPreload(counting, { CRASH_COUNT_FILE: countFile });
    expect(counted.status, counted.stderr).toBe(0);
    const total = Number(readFileSync(countFile, "utf8"));
    // The last operations are the publishing step (staging folder, three files, renames, cleanup).
    const points = Array.from({ length: Math.min(12, total) }, (_, i) => total - i);
    let sawOld = false;
    let sawNew = false;
    for (const at of points) {
      const dir = tempDir();
      cpSync(base, dir, { recursive: true });
      const r = evalWithPreload(dir, { CRASH_AT: String(at) });
      expect(r.signal, `crash at ${at}`).toBe("SIGKILL");
      const out = join(dir, "out");
      if (existsSync(join(out, "summary.json")) || existsSync(join(out, "cases.jsonl"))) {
        const pair = pairOf(out);
        const isOld = pair[0] === oldPair[0] && pair[1] === oldPair[1];
        const isNew = pair[0] === newPair[0] && pair[1] === newPair[1];
        expect(isOld || isNew, `crash at ${at}: a mixed output folder`).toBe(true);
        sawOld ||= isOld;
        sawNew ||= isNew;
      }
      // The next eval publishes the new triple and sweeps the dead one's staging folders.
      const again = runCli(evalArgs(dir));
      expect(again.status, again.stderr).toBe(0);
      expect(pairOf(out), `after crash at ${at}`).toEqual(newPair);
      expect(
        readdirSync(dir).filter((n) => n.startsWith(".staging-")),
        `after crash at ${at}`,
      ).toEqual([]);
    }
    // The enumeration reached both sides of the rename.
    expect(sawOld && sawNew).toBe(true);
  }, 600_000);

  it("issue 19 not forgeries: an --out folder holding other files is refused before any case runs (exit 2)", () => {
    const dir = tempDir();
    cpSync(base, dir, { recursive: true });
    writeFileSync(join(dir, "out", "notes.txt"), "mine");
    const r = runCli(evalArgs(dir));
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toMatch(/not eval output \(notes\.txt\)/);
    expect(readFileSync(join(dir, "out", "notes.txt"), "utf8")).toBe("mine");
    expect(pairOf(join(dir, "out"))).toEqual(oldPair);
  });
});
