/** Runs the built CLI as a user would: a real process, its exit code, stdout and stderr. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/bin/canon-reason.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const DEMO_CORPUS = fileURLToPath(new URL("../../demo/corpus", import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
    // A hang is a failure, not a stuck test run: the process is killed and status is null (-1).
    ...(options.timeoutMs === undefined
      ? {}
      : { timeout: options.timeoutMs, killSignal: "SIGKILL" as const }),
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Asserts a failed command printed a one-line error, not a stack trace. */
export function isCleanError(result: CliResult): boolean {
  return !/\n\s+at /.test(result.stderr) && result.stderr.startsWith("canon-reason: ");
}
