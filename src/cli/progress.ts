/**
 * The terminal progress bar of the commands that index or evaluate; a module of its own so the
 * commands that never show one (verify, inspect, ...) do not load cli-progress, and cli-progress
 * (with node:readline) is loaded only when a bar is shown: `run --json` or a run into a pipe
 * never loads it.
 */
import type { Progress } from "../app/run/run-settings.js";

/** A progress bar on stderr when it is a terminal; silent otherwise (CI, pipes, --json). */
export async function terminalProgress(enabled: boolean): Promise<Progress | undefined> {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const { SingleBar } = await import("cli-progress");
  const bar = new SingleBar({
    stream: process.stderr,
    format: " {label} [{bar}] {percentage}% | {value}/{total}{unit} | eta {eta}s",
    hideCursor: true,
  });
  return {
    // Indexing counts bytes; anything else (eval's "cases") counts what its label names.
    start: (label, total) => bar.start(total, 0, { label, unit: label === "indexing" ? " bytes" : "" }),
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
