/** `canon-reason serve` as a process: flags, one JSON log line per request, graceful shutdown. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLI, isCleanError, REPO, runCli } from "../helpers/cli.js";
import { call, DEMO_ROOT } from "../helpers/http.js";
import { tempDir } from "../helpers/tmp.js";

describe("canon-reason serve", () => {
  it("logs one JSON line per request and exits 0 on SIGTERM", async () => {
    const root = tempDir("canon-serve-");
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--port", "0", "--artifacts-dir", root, "--corpus-root", DEMO_ROOT],
      {
        cwd: REPO,
        stdio: "pipe",
      },
    );
    let out = "";
    child.stdout.setEncoding("utf8");
    const url = await new Promise<string>((resolve) => {
      child.stdout.on("data", (d: string) => {
        out += d;
        const found = /"url":"(http:\/\/127\.0\.0\.1:[0-9]+)"/.exec(out)?.[1];
        if (found !== undefined) resolve(found);
      });
    });
    expect((await call(url, "GET", "/health")).status).toBe(200);
    expect((await call(url, "GET", "/v1/runs")).status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests.map((l) => [l.method, l.url, l.status])).toEqual([
      ["GET", "/health", 200],
      ["GET", "/v1/runs", 200],
    ]);
    expect(lines.some((l) => l.msg === "shutting down")).toBe(true);
  });

  it("refuses a corpus root that is not a folder, and a short token, with a clean error", () => {
    const missing = runCli([
      "serve",
      "--port",
      "0",
      "--artifacts-dir",
      tempDir(),
      "--corpus-root",
      "/nonexistent/x",
    ]);
    expect(missing.status).toBe(2);
    expect(isCleanError(missing)).toBe(true);
    const short = runCli(["serve", "--port", "0", "--artifacts-dir", tempDir()], {
      env: { CANON_REASON_TOKEN: "short" },
    });
    expect(short.status).toBe(2);
    expect(short.stderr).toContain("CANON_REASON_TOKEN");
  });

  it("loads Fastify and SQLite only inside the serve action", () => {
    const source = readFileSync(new URL("../../src/cli/commands/serve.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/^import .*(http|registry|fastify|sqlite)/m);
    expect(source).toContain('await import("../../http/start.js")');
  });
});
