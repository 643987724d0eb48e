/**
 * Every command on the operations handbook pages and in the README runs, and shows what the page
 * says it shows (issue 24 item 2). The pages run in order in one sandbox folder laid out as a
 * project that installed canon-reason (node_modules/canon-reason is this repository, the demo
 * corpus and suites copied to demo/), so later pages reuse the demo runs of earlier ones.
 *
 * - `npx canon-reason …` runs the project's installed command: an `npx` shim first on PATH
 *   executes node_modules/.bin/canon-reason directly (what npx resolves to), without npm's
 *   second of start-up per command. test/release/pack.test.ts runs the real npx on an installed
 *   tarball.
 * - Port 8787 in a block is replaced by a free port, so parallel test runs do not collide;
 *   background processes a block starts are killed (by process group) after its page.
 * - Output: the sandbox path reads as /path/to/project, durations (`5.7 s`, `12 ms`) are
 *   normalised; nothing else varies, so everything else is compared as printed.
 * - Blocks that only make sense on a real host are validated instead (blocks.ts): `sh host`
 *   (bash syntax; every canon-reason command and flag exists in that command's --help),
 *   `ini systemd` (sections, ExecStart runs node on the CLI entry point with valid flags, SIGTERM),
 *   `nginx` (balanced braces, proxies to serve's loopback port), `json` (parses), `js` (node --check).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/command-table.js";
import { CLI, REPO } from "../helpers/cli.js";
import { type Block, consoleSteps, fencedBlocks, invocations, outputMatches } from "./blocks.js";

const PAGES = [
  "README.md",
  "docs/operations/index.md",
  "docs/operations/installation-and-setup.md",
  "docs/operations/local-development.md",
  "docs/operations/common-workflows.md",
  "docs/operations/observability-and-diagnostics.md",
  "docs/operations/performance-and-scaling.md",
  "docs/operations/failure-recovery.md",
  "docs/operations/release-and-versioning.md",
  "docs/operations/security-and-safety.md",
  "docs/operations/deployment-boundaries.md",
];

const SHOWN_PATH = "/path/to/project";
const DOC_PORT = "8787";
let sandbox = "";
let realSandbox = "";
let port = "";
const groups: number[] = [];

async function freePort(): Promise<string> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(String(typeof address === "object" && address !== null ? address.port : 0)));
    });
  });
}

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(sandbox, ".shim")}:${process.env.PATH}` };
  // The pages run locally: no shared services, no token, no tracing from the test's environment.
  // No npm_* either: the shim execs the CLI in npx's place, so a background `serve` has the
  // block's shell as its parent, not a living npx; with `npm_command` inherited from the npm
  // that started vitest, the npx parent watch would stop it as soon as its block ends.
  for (const key of Object.keys(e))
    if (/^(CANON_REASON_|OTEL_|OPENAI_|npm_)/i.test(key) || key === "NODE_OPTIONS") delete e[key];
  return e;
}

/** Runs shell text in the sandbox, in a process group of its own; stderr into stdout when asked. */
async function shell(script: string): Promise<{ status: number; out: string }> {
  const text = script.replaceAll(DOC_PORT, port);
  return await new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `set -eo pipefail\n${text}`], {
      cwd: sandbox,
      env: env(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid !== undefined) groups.push(child.pid);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? -1, out });
    });
  });
}

function normalise(text: string): string {
  return text
    .replaceAll(realSandbox, SHOWN_PATH)
    .replaceAll(sandbox, SHOWN_PATH)
    .replaceAll(`:${port}`, `:${DOC_PORT}`)
    .replace(/\b\d+(\.\d+)? (s|ms)\b/g, "<duration> $2");
}

const expectedOf = (text: string) => text.replace(/\b\d+(\.\d+)? (s|ms)\b/g, "<duration> $2");

function killGroups(): void {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

const helpCache = new Map<string, string>();
function helpOf(command: string): string {
  let help = helpCache.get(command);
  if (help === undefined) {
    const r = spawnSync(process.execPath, [CLI, command, "--help"], { encoding: "utf8" });
    help = r.stdout;
    helpCache.set(command, help);
  }
  return help;
}

const COMMAND_NAMES = new Set(COMMANDS.flatMap((c) => c.names));

/** Problems with the canon-reason invocations of a host block: unknown commands or flags. */
function invocationProblems(text: string): string[] {
  const problems: string[] = [];
  for (const { command, flags } of invocations(text)) {
    if (!COMMAND_NAMES.has(command)) {
      problems.push(`unknown command "${command}"`);
      continue;
    }
    const help = helpOf(command);
    for (const flag of flags)
      if (!new RegExp(`(^|[\\s,\\[])${flag.replace("--no-", "--(\\[no-\\])?")}([\\s,=<]|$)`, "m").test(help))
        if (!help.includes(flag)) problems.push(`${command}: unknown flag ${flag}`);
  }
  return problems;
}

function validate(block: Block, page: string): string[] {
  const where = `${page}:${block.line}`;
  const problems: string[] = [];
  if (block.lang === "sh" && block.tags.includes("host")) {
    const syntax = spawnSync("bash", ["-n"], { input: block.content, encoding: "utf8" });
    if (syntax.status !== 0) problems.push(`bash syntax: ${syntax.stderr}`);
    problems.push(...invocationProblems(block.content));
  } else if (block.lang === "ini" && block.tags.includes("systemd")) {
    const lines = block.content.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    for (const section of ["[Unit]", "[Service]", "[Install]"])
      if (!lines.includes(section)) problems.push(`missing ${section}`);
    for (const l of lines)
      if (!/^\[[A-Za-z]+\]$/.test(l) && !/^[A-Za-z]+=\S/.test(l)) problems.push(`not Key=Value: ${l}`);
    const exec = lines.find((l) => l.startsWith("ExecStart="));
    if (exec === undefined || !/^ExecStart=\/\S*node \S*\/dist\/bin\/canon-reason\.js [a-z]/.test(exec))
      problems.push("ExecStart must run node on dist/bin/canon-reason.js directly (signals reach it)");
    else problems.push(...invocationProblems(exec.slice("ExecStart=".length)));
    if (!lines.includes("KillSignal=SIGTERM")) problems.push("KillSignal=SIGTERM missing");
  } else if (block.lang === "nginx") {
    const text = block.content.replace(/#.*$/gm, "");
    if ((text.match(/{/g) ?? []).length !== (text.match(/}/g) ?? []).length)
      problems.push("unbalanced braces");
    const proxies = [...text.matchAll(/proxy_pass\s+http:\/\/127\.0\.0\.1:(\d+);/g)];
    if (proxies.length === 0) problems.push("no proxy_pass to a loopback serve");
    for (const p of proxies)
      if (p[1] !== DOC_PORT) problems.push(`proxy_pass port ${p[1]} is not serve's ${DOC_PORT}`);
    for (const l of text.split("\n").map((s) => s.trim()))
      if (l !== "" && !/[;{}]$/.test(l)) problems.push(`directive without ';': ${l}`);
  } else if (block.lang === "json") {
    try {
      JSON.parse(block.content);
    } catch (e) {
      problems.push(`JSON: ${(e as Error).message}`);
    }
  } else if (block.lang === "js") {
    const file = join(sandbox, ".check.mjs");
    writeFileSync(file, block.content);
    const r = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
    if (r.status !== 0) problems.push(`node --check: ${r.stderr}`);
  }
  return problems.map((p) => `${where}: ${p}`);
}

beforeAll(async () => {
  sandbox = mkdtempSync(join(tmpdir(), "canon-docs-"));
  realSandbox = realpathSync(sandbox);
  port = await freePort();
  writeFileSync(join(sandbox, "package.json"), '{"name":"docs-sandbox","private":true}\n');
  mkdirSync(join(sandbox, "node_modules", ".bin"), { recursive: true });
  symlinkSync(REPO, join(sandbox, "node_modules", "canon-reason"));
  symlinkSync(
    "../canon-reason/dist/bin/canon-reason.js",
    join(sandbox, "node_modules", ".bin", "canon-reason"),
  );
  cpSync(join(REPO, "demo"), join(sandbox, "demo"), { recursive: true });
  mkdirSync(join(sandbox, ".shim"));
  const realNpx = spawnSync("bash", ["-c", "command -v npx"], { encoding: "utf8" }).stdout.trim();
  writeFileSync(
    join(sandbox, ".shim", "npx"),
    `#!/bin/sh\nif [ "$1" = canon-reason ] && [ -x node_modules/.bin/canon-reason ]; then shift; exec node_modules/.bin/canon-reason "$@"; fi\nexec ${realNpx || "false"} "$@"\n`,
    { mode: 0o755 },
  );
});

afterAll(() => {
  killGroups();
  if (sandbox !== "") rmSync(sandbox, { recursive: true, force: true });
});

describe("the handbook's commands", () => {
  for (const page of PAGES) {
    it(`${page}: every block runs and shows what the page says`, async () => {
      const blocks = fencedBlocks(readFileSync(join(REPO, page), "utf8"));
      const failures: string[] = [];
      try {
        for (const block of blocks) {
          const where = `${page}:${block.line}`;
          if (block.lang === "sh" && block.tags.length === 0) {
            const r = await shell(block.content);
            if (r.status !== 0) failures.push(`${where}: exit ${r.status}\n${r.out}`);
            else if (block.output !== undefined && !outputMatches(normalise(r.out), expectedOf(block.output)))
              failures.push(
                `${where}: output differs\n--- page\n${block.output}\n--- actual\n${normalise(r.out)}`,
              );
          } else if (block.lang === "console") {
            for (const step of consoleSteps(block.content)) {
              const r = await shell(`{ ${step.command}\n} 2>&1 || true`);
              if (!outputMatches(normalise(r.out), expectedOf(step.expected)))
                failures.push(
                  `${where}: $ ${step.command}\n--- page\n${step.expected}\n--- actual\n${normalise(r.out)}`,
                );
            }
          } else failures.push(...validate(block, page));
        }
      } finally {
        killGroups();
      }
      expect(failures).toEqual([]);
    });
  }
});

describe("the handbook", () => {
  it("has the index and the nine pages, and the README links to each", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    for (const page of PAGES.slice(1)) expect(readme, page).toContain(page);
  });

  it("marks every block it does not run with a tag a validator knows", () => {
    const known = new Set(["sh", "console", "text", "json", "js", "ini", "nginx", "mermaid"]);
    for (const page of PAGES)
      for (const block of fencedBlocks(readFileSync(join(REPO, page), "utf8"))) {
        expect(known.has(block.lang), `${page}:${block.line} fence "${block.lang}"`).toBe(true);
        if (block.lang === "sh")
          expect(
            block.tags.every((t) => t === "host"),
            `${page}:${block.line}`,
          ).toBe(true);
        if (block.lang === "ini") expect(block.tags, `${page}:${block.line}`).toEqual(["systemd"]);
      }
  });

  it("lists every command in the README's command table", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    for (const name of COMMAND_NAMES)
      expect(readme, name).toMatch(new RegExp(`\\| \`canon-reason ${name}\\b`));
  });

  it("links only to files and headings that exist", () => {
    const anchorsOf = (file: string) => {
      const text = readFileSync(file, "utf8");
      const ids = new Set([...text.matchAll(/<a id="([^"]+)"/g)].map((m) => m[1] as string));
      for (const m of text.matchAll(/^#+\s+(.*)$/gm))
        ids.add(
          (m[1] as string)
            .trim()
            .toLowerCase()
            .replace(/[^\w\- ]/g, "")
            .replaceAll(" ", "-"),
        );
      return ids;
    };
    const broken: string[] = [];
    const docs = [...PAGES, "docs/architecture.md", "docs/design.md", "CONTRIBUTING.md"];
    for (const page of docs) {
      const text = readFileSync(join(REPO, page), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? join(REPO, page) : join(REPO, dirname(page), path);
        if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(file).has(anchor))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("keeps the README a front door: at most 300 lines", () => {
    expect(readFileSync(join(REPO, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(300);
  });
});

describe("the docs test's own matching (blocks.ts)", () => {
  it("pairs a sh block with the text block after it, and … matches any lines", () => {
    const [sh] = fencedBlocks("```sh\necho a\n```\n\n```text\na\n```\n");
    expect(sh?.output).toBe("a");
    expect(outputMatches("a\nb\nc\n", "a\n…\nc")).toBe(true);
    expect(outputMatches("a\nc\n", "a\n…\nc")).toBe(true);
    expect(outputMatches("a\nb\n", "a\nc")).toBe(false);
    expect(outputMatches("a\nb\n", "a")).toBe(false);
  });

  it("finds canon-reason commands and flags, across continued lines and not in comments", () => {
    expect(invocations('npx canon-reason run "q" \\\n  --corpus x # --nope\nnpm i -g canon-reason')).toEqual([
      { command: "run", flags: ["--corpus"] },
    ]);
    expect(invocationProblems("npx canon-reason run --no-such-flag")).toEqual([
      "run: unknown flag --no-such-flag",
    ]);
    expect(invocationProblems("npx canon-reason frobnicate")).toEqual(['unknown command "frobnicate"']);
  });
});
