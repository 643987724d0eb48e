/**
 * `serve` and `worker` started through npx (or `npm exec`, `npm run`) stop when their launcher
 * dies. A SIGTERM sent to npx ends npx, not the node process it started, which would otherwise
 * live on as an orphan holding its port. The supervised launch is the installed bin
 * (`node_modules/.bin/canon-reason serve`, or `node …/dist/bin/canon-reason.js serve`): signals
 * reach the server directly and nothing here is needed (README "Running the service").
 *
 * How: the launcher is the parent, or the parent's parent when npm ran the command through
 * `sh -c`. Both are polled once a second; when either is gone (or the parent changed: the
 * process was re-parented), the process sends itself SIGTERM, so it shuts down exactly as a
 * supervisor's SIGTERM would (serve closes, a worker drains). Polling needs nothing from the
 * launcher (no IPC channel, no stdin, which npx does not give), and works for every launcher.
 *
 * When: when npm started the process (npm sets `npm_command`), unless
 * CANON_REASON_EXIT_WITH_PARENT=0; CANON_REASON_EXIT_WITH_PARENT=1 turns it on for any launcher.
 */
import { readFileSync } from "node:fs";

export const EXIT_WITH_PARENT_ENV = "CANON_REASON_EXIT_WITH_PARENT";
const POLL_MS = 1000;

/** Whether this process should stop with its launcher. */
export function watchesParent(env: NodeJS.ProcessEnv): boolean {
  const setting = env[EXIT_WITH_PARENT_ENV];
  if (setting === "1") return true;
  if (setting === "0") return false;
  return env.npm_command !== undefined && env.npm_command !== "";
}

/** The parent pid of `pid` (Linux /proc), or undefined where it cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The command name of `pid` (Linux /proc), or "" where it cannot be read. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ash", "busybox"]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Starts the watch when `watchesParent(env)`; `onGone` (default: SIGTERM to this process) runs
 * once when the launcher is gone. Returns a function that stops the watch. The timer never
 * keeps the process alive.
 */
export function exitWithParent(
  env: NodeJS.ProcessEnv = process.env,
  onGone: () => void = () => process.kill(process.pid, "SIGTERM"),
): () => void {
  if (!watchesParent(env)) return () => {};
  const parent = process.ppid;
  // npm runs a command through `sh -c`: then the launcher is the shell's parent, watched too.
  const grandparent = SHELLS.has(commandOf(parent)) ? parentOf(parent) : undefined;
  const watched = [parent, ...(grandparent === undefined || grandparent <= 1 ? [] : [grandparent])];
  const timer = setInterval(() => {
    if (process.ppid === parent && watched.every(alive)) return;
    clearInterval(timer);
    onGone();
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
