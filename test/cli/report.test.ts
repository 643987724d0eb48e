/** `canon-reason report` as a user runs it: pages written, and every bad target refused cleanly. */
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, isCleanError, runCli } from "../helpers/cli.js";
import { makeReportRuns, type ReportRuns } from "../helpers/report-runs.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

let runs: ReportRuns;

beforeAll(async () => {
  runs = await makeReportRuns();
});

function refused(args: string[], code: string, pattern?: RegExp) {
  const r = runCli(args, { timeoutMs: 20_000 });
  expect(r.status, r.stderr).toBe(2);
  expect(isCleanError(r), r.stderr).toBe(true);
  expect(r.stderr).toContain(`error[${code}]`);
  if (pattern !== undefined) expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  return r;
}

describe("canon-reason report RUN", () => {
  it("prints one self-contained page to standard output, the same bytes every time", () => {
    const a = runCli(["report", runs.ids.multibyte, "--artifacts-dir", runs.root]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout.startsWith("<!doctype html>")).toBe(true);
    expect(a.stdout).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;`,
    );
    expect(a.stdout).not.toMatch(/<(link|img|iframe)\b|src="http|href="http/);
    expect(a.stdout).toContain(runs.ids.multibyte);
    const b = runCli(["report", runs.runDir("multibyte")]);
    expect(b.stdout).toBe(a.stdout);
  });

  it("escapes a corpus's markup in text and attributes", () => {
    const r = runCli(["report", runs.runDir("hostile")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("&lt;script&gt;window.__pwned=&#39;body&#39;;alert(1)&lt;/script&gt;");
    expect(r.stdout).not.toContain("<script>window.__pwned");
    expect(r.stdout).not.toContain("<img src=x");
    expect(r.stdout.match(/<script>/g)).toHaveLength(1);
  });

  it("writes -o atomically, replacing an existing file, and says so with --json", () => {
    const dir = tempDir();
    const out = join(dir, "run.html");
    writeFileSync(out, "old");
    const r = runCli(["report", runs.runDir("multibyte"), "-o", out, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ written: [out] });
    expect(readFileSync(out, "utf8")).toContain("Run report");
    expect(readdirSync(dir)).toEqual(["run.html"]);
  });

  it("leaves one whole page when several processes write the same -o at once", async () => {
    const dir = tempDir();
    const out = join(dir, "run.html");
    const once = () =>
      new Promise<number>((resolve) => {
        spawn(process.execPath, [CLI, "report", runs.runDir("multibyte"), "-o", out], { stdio: "ignore" }).on(
          "exit",
          (code) => resolve(code ?? -1),
        );
      });
    expect(await Promise.all([once(), once(), once()])).toEqual([0, 0, 0]);
    expect(readFileSync(out, "utf8")).toBe(runCli(["report", runs.runDir("multibyte")]).stdout);
    expect(readdirSync(dir)).toEqual(["run.html"]);
  });

  it("exits 0 on a run whose checks fail: the page is the verdict, shown first", () => {
    const r = runCli(["report", runs.runDir("tampered")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/<title>FAILED /);
    expect(r.stdout.indexOf('id="verification"')).toBeLessThan(r.stdout.indexOf('id="answer"'));
  });
});

describe("report refuses bad targets without touching anything", () => {
  // No device node here: a bug would rename over it (the FIFO stands for every special file).
  it("refuses -o that is a folder or a FIFO, and a missing parent folder", () => {
    const dir = tempDir();
    refused(["report", runs.runDir("multibyte"), "-o", dir], "E_OUTPUT", /is a folder; give a file name/);
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    refused(
      ["report", runs.runDir("multibyte"), "-o", fifo],
      "E_OUTPUT",
      /a FIFO \(named pipe\), not a file/,
    );
    expect(statSync(fifo).isFIFO()).toBe(true);
    refused(
      ["report", runs.runDir("multibyte"), "-o", join(dir, "missing", "x.html")],
      "E_OUTPUT",
      /no such file/,
    );
    expect(readdirSync(dir)).toEqual(["pipe"]);
  });

  it("refuses run references that are not runs: traversal, a plain folder, a file", () => {
    refused(["report", "../../../../etc", "--artifacts-dir", runs.root], "E_NOT_A_RUN");
    refused(["report", `run_v1_${"0".repeat(64)}`, "--artifacts-dir", runs.root], "E_RUN_NOT_FOUND");
    refused(["report", join(runs.root, "runs", "..", "..", "nope")], "E_RUN_NOT_FOUND");
    refused(["report", join(runs.runDir("multibyte"), "run.json")], "E_NOT_A_RUN", /not a directory/);
  });

  it("refuses wrong argument counts and flag combinations as usage errors", () => {
    refused(["report", "--diff", runs.runDir("multibyte")], "E_USAGE", /--diff takes two runs/);
    refused(["report", runs.runDir("multibyte"), runs.runDir("crlf")], "E_USAGE", /takes one run, got 2/);
    refused(["report", "--diff", "--eval", "a", "b"], "E_USAGE", /not both/);
    refused(["report", "--baseline", "x", runs.runDir("multibyte")], "E_USAGE", /--baseline needs --eval/);
    refused(["report", "--eval", runs.evalDir, "--tolerance", "-1"], "E_USAGE");
  });
});

describe("report --diff", () => {
  it("writes a page that opens on the first changed layer", () => {
    const out = join(tempDir(), "diff.html");
    const r = runCli(["report", "--diff", runs.runDir("topK3"), runs.runDir("multibyte"), "-o", out]);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toContain("First changed layer: index");
    expect(html.indexOf('id="first-changed"')).toBeLessThan(html.indexOf('id="answers"'));
  });
});

describe("report --eval", () => {
  it("writes index.html and one page per case's run into <DIR>/report by default", () => {
    const r = runCli(["report", "--eval", runs.evalDir, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      index: join(runs.evalDir, "report", "index.html"),
      run_pages: 4,
      runs_not_found: 0,
    });
    const index = readFileSync(join(runs.evalDir, "report", "index.html"), "utf8");
    expect(index).toContain(`href="runs/${runs.ids.hostile}.html"`);
    expect(index).toContain('data-case="&lt;b&gt;juggler&lt;/b&gt;"');
    expect(existsSync(join(runs.evalDir, "report", "runs", `${runs.ids.hostile}.html`))).toBe(true);
  });

  it("marks regressions against a baseline folder, metrics and cases", () => {
    const out = tempDir();
    const r = runCli(["report", "--eval", runs.evalDir, "--baseline", runs.baselineDir, "-o", out]);
    expect(r.status, r.stderr).toBe(0);
    const index = readFileSync(join(out, "index.html"), "utf8");
    expect(index).toMatch(/<tr class="regressed" data-metric="ndcg_at_10">/);
    expect(index).toMatch(/<tr class="regressed" data-case="trick"[^>]*data-regressed="1"/);
    // A bare summary.json compares metrics only: no per-case column.
    const bare = runCli([
      "report",
      "--eval",
      runs.evalDir,
      "--baseline",
      join(runs.baselineDir, "summary.json"),
      "-o",
      out,
    ]);
    expect(bare.status, bare.stderr).toBe(0);
    expect(readFileSync(join(out, "index.html"), "utf8")).not.toContain("<th>regression</th>");
  });

  it("shows the wall time from timings.json, or from an older summary's volatile part; a bad timings.json is left out", () => {
    const summary = JSON.parse(readFileSync(join(runs.evalDir, "summary.json"), "utf8"));
    const cases = readFileSync(join(runs.evalDir, "cases.jsonl"));
    const heading = (dir: string) => {
      const r = runCli(["report", "--eval", dir, "--artifacts-dir", tempDir()]);
      expect(r.status, r.stderr).toBe(0);
      return /<div class="muted">([^<]*)<\/div>/.exec(
        readFileSync(join(dir, "report", "index.html"), "utf8"),
      )?.[1];
    };
    const folder = (files: Record<string, string | Uint8Array>) => {
      const dir = tempDir();
      writeFiles(dir, { "cases.jsonl": cases, ...files });
      return dir;
    };
    expect(
      heading(folder({ "summary.json": JSON.stringify(summary), "timings.json": '{"seconds": 12.5}' })),
    ).toContain(", 12.5 s ·");
    // A summary written before timings.json: its volatile part is still read.
    const legacy = JSON.stringify({
      ...summary,
      volatile: { seconds: 0.69, run_time_ms_per_case: 15, workers: 1 },
    });
    expect(heading(folder({ "summary.json": legacy }))).toContain(", 0.69 s ·");
    // timings.json is never trusted: garbage, wrong types, an oversized file, invalid UTF-8, a folder, a FIFO or a
    // symlink is left out (the summary's time, if any, is shown), never an error.
    const plain = JSON.stringify(summary);
    for (const bad of [
      "{not json",
      '{"seconds": "12"}',
      '{"seconds": -1}',
      // Valid, but larger than any timings file eval writes.
      JSON.stringify({ seconds: 1, pad: "x".repeat(2 * 1024 * 1024) }),
      Buffer.from([0x7b, 0xff, 0x7d]),
    ]) {
      const dir = folder({ "summary.json": plain, "timings.json": bad });
      expect(heading(dir)).not.toMatch(/ s ·/);
    }
    const special = folder({ "summary.json": legacy });
    execFileSync("mkfifo", [join(special, "timings.json")]);
    expect(heading(special)).toContain(", 0.69 s ·");
    const linked = folder({ "summary.json": plain });
    symlinkSync(join(runs.evalDir, "timings.json"), join(linked, "timings.json"));
    expect(heading(linked)).not.toMatch(/ s ·/);
    const nested = folder({ "summary.json": plain });
    mkdirSync(join(nested, "timings.json"));
    expect(heading(nested)).not.toMatch(/ s ·/);
  });

  it("says how many runs it could not find under another artifacts root", () => {
    const copy = tempDir();
    writeFiles(copy, {
      "summary.json": readFileSync(join(runs.evalDir, "summary.json")),
      "cases.jsonl": readFileSync(join(runs.evalDir, "cases.jsonl")),
    });
    const r = runCli(["report", "--eval", copy, "--artifacts-dir", tempDir()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("0 run page(s); 4 run(s) not found");
    expect(readFileSync(join(copy, "report", "index.html"), "utf8")).toContain("run not found");
  });

  it("refuses a missing folder, a file, a folder without results, and an -o that is a file", () => {
    refused(["report", "--eval", join(tempDir(), "nope")], "E_EVAL_INVALID", /no such file or folder/);
    refused(
      ["report", "--eval", join(runs.evalDir, "summary.json")],
      "E_EVAL_INVALID",
      /not an eval output folder/,
    );
    refused(["report", "--eval", tempDir()], "E_EVAL_INVALID", /summary\.json: cannot read/);
    const fifo = tempDir();
    writeFiles(fifo, { "summary.json": readFileSync(join(runs.evalDir, "summary.json")) });
    execFileSync("mkfifo", [join(fifo, "cases.jsonl")]);
    refused(
      ["report", "--eval", fifo],
      "E_EVAL_INVALID",
      /cases\.jsonl: cannot read: a FIFO \(named pipe\), not a regular file/,
    );
    const file = join(tempDir(), "file");
    writeFileSync(file, "x");
    refused(["report", "--eval", runs.evalDir, "-o", file], "E_OUTPUT", /give a folder/);
    expect(readFileSync(file, "utf8")).toBe("x");
  });

  it("names the file and line of a corrupt cases.jsonl line, a hostile run id or invalid UTF-8", () => {
    const lines = readFileSync(join(runs.evalDir, "cases.jsonl"), "utf8").split("\n");
    const summary = readFileSync(join(runs.evalDir, "summary.json"));
    const folder = (cases: string | Uint8Array) => {
      const dir = tempDir();
      writeFiles(dir, { "summary.json": summary, "cases.jsonl": cases });
      return dir;
    };
    let dir = folder([lines[0], "{not json", lines[2]].join("\n"));
    refused(
      ["report", "--eval", dir],
      "E_EVAL_INVALID",
      new RegExp(`${join(dir, "cases.jsonl")}:2: not valid JSON`),
    );
    const traversal = JSON.stringify({ ...JSON.parse(lines[0] as string), run_id: "../../../etc/passwd" });
    dir = folder([lines[0], lines[1], traversal].join("\n"));
    refused(
      ["report", "--eval", dir],
      "E_EVAL_INVALID",
      /cases\.jsonl:3: field "run_id": expected a run_v1_<sha256> id/,
    );
    dir = folder([lines[0], lines[0]].join("\n"));
    refused(["report", "--eval", dir], "E_EVAL_INVALID", /cases\.jsonl:2: duplicate case_id "cafe"/);
    dir = folder(Buffer.concat([Buffer.from(`${lines[0]}\n`), Buffer.from([0xff, 0xfe, 0x0a])]));
    refused(["report", "--eval", dir], "E_ENCODING", /cases\.jsonl:2: not valid UTF-8/);
    const badBaseline = join(tempDir(), "b.json");
    writeFileSync(badBaseline, JSON.stringify({ suite: "x", metrics: { ndcg_at_10: { mean: "high" } } }));
    refused(
      ["report", "--eval", runs.evalDir, "--baseline", badBaseline],
      "E_EVAL_INVALID",
      /b\.json: field "metrics\.ndcg_at_10\.mean"/,
    );
  });
});
