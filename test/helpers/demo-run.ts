/**
 * One demo run made the way a user makes it: `canon-reason run QUESTION --corpus demo/corpus
 * --artifacts-dir ROOT --json` through the built CLI, in a fresh temporary artifacts root unless
 * one is given. It replaces the set-up many CLI tests repeated before their real subject
 * (export, verify, inspect, replay, gc, ...). A run that does not exit 0 throws with its stderr,
 * so a test never goes on with a run that was not made.
 */
import { DEMO_CORPUS, runCli, runCliAsync } from "./cli.js";
import { tempDir } from "./tmp.js";

/** The question most tests ask of the demo corpus: answered, with citations. */
export const DEMO_QUESTION = "When did the Golden Gate Bridge open?";

export interface DemoRunOptions {
  /** The question; DEMO_QUESTION unless given. */
  question?: string;
  /** The corpus (folder, .jsonl or sha256:...); demo/corpus unless given. */
  corpus?: string;
  /** The artifacts root; a new temporary folder unless given (share one to share a store). */
  root?: string;
  /** More flags after --json, e.g. ["--sign", key] or ["--top-k", "3"]. */
  args?: string[];
  env?: Record<string, string>;
  /** The working directory (a relative corpus path is read from it); the repository unless given. */
  cwd?: string;
}

export interface DemoRun {
  /** The artifacts root the run was written under. */
  root: string;
  runId: string;
  /** root/runs/<runId>, as the CLI reported it. */
  runDir: string;
  /** The whole `run --json` output (answer, claims, verification, corpus_documents, ...). */
  json: ReturnType<typeof JSON.parse>;
}

/** The command line of a demo run, for tests that must run it themselves (concurrently, with a preload). */
export function demoRunArgs(options: DemoRunOptions & { root: string }): string[] {
  return [
    "run",
    options.question ?? DEMO_QUESTION,
    "--corpus",
    options.corpus ?? DEMO_CORPUS,
    "--artifacts-dir",
    options.root,
    "--json",
    ...(options.args ?? []),
  ];
}

function processOptions(options: DemoRunOptions): { env: Record<string, string>; cwd?: string } {
  return { env: options.env ?? {}, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) };
}

function parsed(root: string, result: { status: number; stdout: string; stderr: string }): DemoRun {
  if (result.status !== 0)
    throw new Error(`demo run exited ${result.status} under ${root}: ${result.stderr.trim()}`);
  const json = JSON.parse(result.stdout);
  return { root, runId: json.run_id, runDir: json.run_dir, json };
}

/** Makes one demo run; throws (with the CLI's stderr) unless it exits 0. */
export function demoRun(options: DemoRunOptions = {}): DemoRun {
  const root = options.root ?? tempDir();
  return parsed(root, runCli(demoRunArgs({ ...options, root }), processOptions(options)));
}

/** demoRun without blocking the event loop (for runs racing each other or a server in the test). */
export async function demoRunAsync(options: DemoRunOptions = {}): Promise<DemoRun> {
  const root = options.root ?? tempDir();
  return parsed(root, await runCliAsync(demoRunArgs({ ...options, root }), processOptions(options)));
}
