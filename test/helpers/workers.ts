/** `canon-reason worker` processes for the queue tests: started, their JSON log lines collected. */
import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./cli.js";

export interface WorkerProcess {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  /** What the worker wrote on stderr so far (also passed on to the test's stderr). */
  stderr: () => string;
  exited: Promise<number | null>;
}

/** A worker with these arguments (after `worker`) and extra environment; stderr goes to the test's. */
export function startWorkerProcess(args: string[], env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [CLI, "worker", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: WorkerProcess["lines"] = [];
  let buffered = "";
  child.stdout?.on("data", (data) => {
    buffered += data;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const part of parts) if (part.trim() !== "") lines.push(JSON.parse(part));
  });
  let stderr = "";
  child.stderr?.on("data", (data) => {
    stderr += data;
    process.stderr.write(data);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

/** Bounded polling, not a timing assertion: fails only if it never happens (within a minute). */
export async function until(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}
