/**
 * The release (issue 24 item 6): the packed tarball carries what the installed command needs, and
 * installed into an empty folder it runs the README's quick start on Node 20 without warnings.
 *
 * The install compiles better-sqlite3 (about a minute or more), so it runs only with
 * CANON_REASON_PACK_TEST=1, which .ci/run sets; the contents check always runs. The install
 * reaches no network but the npm registry: better-sqlite3 is built from its sources
 * (`npm_config_build_from_source`), not downloaded as a prebuilt binary.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PRODUCER } from "../../src/version.js";
import { consoleSteps, fencedBlocks, outputMatches } from "../docs/blocks.js";
import { REPO } from "../helpers/cli.js";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "canon-pack-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The environment of an npm outside this repository: without the test runner's npm_* variables. */
function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of Object.keys(env)) if (/^npm_/i.test(key) && !(key in extra)) delete env[key];
  for (const key of Object.keys(env)) if (/^CANON_REASON_|^OTEL_/.test(key)) delete env[key];
  return env;
}

function npm(args: string[], cwd: string, extra: Record<string, string> = {}) {
  return spawnSync("npm", args, { cwd, env: npmEnv(extra), encoding: "utf8", timeout: 600_000 });
}

/** A long npm command without blocking the test worker (an install compiles better-sqlite3). */
async function npmAsync(args: string[], cwd: string, extra: Record<string, string> = {}) {
  return await new Promise<{ status: number; output: string }>((resolve, reject) => {
    const child = spawn("npm", args, { cwd, env: npmEnv(extra), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status: status ?? -1, output }));
  });
}

/**
 * npm's warning about the repository's own `.npmrc` key `build-from-source` (an unknown npm
 * config; being removed in another change). It is about the config file, not the package: the
 * only warning tolerated, and only while that key exists.
 */
const KNOWN_CONFIG_WARNING = /^npm warn Unknown (project|env|cli) config "build-from-source"\..*$/;

const warningsIn = (text: string) =>
  text
    .split("\n")
    .filter((l) => /\bwarn(ing)?\b|EBADENGINE|deprecat/i.test(l))
    .filter((l) => !KNOWN_CONFIG_WARNING.test(l));

describe("the packed tarball", () => {
  it("holds the built CLI, schemas, demo, error catalogue and docs, and none of the sources or tests", () => {
    const r = npm(["pack", "--dry-run", "--json", "--ignore-scripts"], REPO);
    expect(r.status, r.stderr).toBe(0);
    const [info] = JSON.parse(r.stdout) as [{ version: string; files: { path: string }[] }];
    const files = info.files.map((f) => f.path);
    expect(info.version).toBe(PRODUCER.version);
    for (const needed of [
      "package.json",
      "README.md",
      "CHANGELOG.md",
      "docs/errors.md",
      pkg.bin["canon-reason"],
      "dist/index.js",
      "schemas/ProblemSpec.json",
      "demo/corpus/culture/contract-bridge.md",
      "demo/suite/problems.jsonl",
    ])
      expect(files, needed).toContain(needed);
    expect(files.filter((f) => /^(src|test|bench|scripts|node_modules)\//.test(f))).toEqual([]);
  });

  it("pins what the installed dependency tree needs on Node 20 in dependencies, not only in overrides", () => {
    // overrides apply to installs of this repository only; an installed tarball ignores them.
    for (const [name, version] of Object.entries(pkg.overrides ?? {}))
      expect(pkg.dependencies[name], `${name} is overridden; pin it in dependencies too`).toBe(version);
  });

  it.runIf(process.env.CANON_REASON_PACK_TEST === "1")(
    "installs into an empty folder and runs the quick start and verify there, without warnings",
    { timeout: 1_500_000 },
    async () => {
      const out = scratch();
      const packed = npm(["pack", "--ignore-scripts", "--pack-destination", out], REPO);
      expect(packed.status, packed.stderr).toBe(0);
      const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
      expect(tarball).toBe(`canon-reason-${pkg.version}.tgz`);

      const app = scratch();
      // npm 11.16+ lists dependencies whose install scripts the project has not reviewed
      // (allowScripts): the two native builds are approved, canon-reason's own `prepare` (the
      // repository's build, never needed from a tarball) is not. As the installation page says.
      writeFileSync(
        join(app, "package.json"),
        `${JSON.stringify({
          name: "app",
          private: true,
          // A package installed from a file is named by its file: spec (a registry install: by name).
          allowScripts: {
            "better-sqlite3": true,
            "msgpackr-extract": true,
            [`file:${join(out, tarball as string)}`]: false,
          },
        })}\n`,
      );
      const install = await npmAsync(
        ["install", "--no-audit", "--no-fund", join(out, tarball as string)],
        app,
        {
          npm_config_build_from_source: "true",
        },
      );
      expect(install.status, install.output.slice(-4000)).toBe(0);
      expect(warningsIn(install.output)).toEqual([]);
      const tree = npm(["ls", "--all", "--json"], app);
      expect(tree.stderr).not.toMatch(/ERR|invalid|missing/);

      // The README's quick start, as printed there, with the real npx.
      cpSync(join(app, "node_modules", "canon-reason", "demo"), join(app, "demo"), { recursive: true });
      const readme = readFileSync(join(REPO, "README.md"), "utf8");
      const quick = fencedBlocks(readme).find((b) => b.lang === "console");
      const [step] = consoleSteps(quick?.content ?? "");
      expect(step?.command).toMatch(/^npx canon-reason run /);
      const run = spawnSync("bash", ["-c", step?.command as string], {
        cwd: app,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
      });
      expect(run.status, run.stderr).toBe(0);
      expect(warningsIn(run.stderr)).toEqual([]);
      expect(outputMatches(run.stdout.replaceAll(app, "/path/to/project"), step?.expected as string)).toBe(
        true,
      );

      const id = /runs\/(run_v1_[0-9a-f]{64})/.exec(run.stdout)?.[1];
      const verify = spawnSync("npx", ["canon-reason", "verify", id as string], {
        cwd: app,
        encoding: "utf8",
      });
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(warningsIn(verify.stderr)).toEqual([]);
      const version = spawnSync("npx", ["canon-reason", "--version"], { cwd: app, encoding: "utf8" });
      expect(version.stdout.trim()).toBe(PRODUCER.version);
    },
  );
});
