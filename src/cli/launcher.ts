/**
 * dist/bin/canon-reason.js: picks the bundle of the command being run (dist/bin/cli-<module>.js,
 * main.ts with only that command's code; cli-help.js for the program's own help and version) and
 * runs it with a V8 code cache, so a command does not parse and compile its ~0.5 MB of
 * JavaScript at every start. Node 20 has no compile cache of its own (module.enableCompileCache
 * is Node 22) and none for ES modules, which is why the bundles are CommonJS.
 *
 * The cache is this user's, like the rebuild records: $CANON_REASON_CACHE_DIR, else
 * $XDG_CACHE_HOME/canon-reason, else ~/.cache/canon-reason; one file per bundle, named by the
 * bundle's sha256 (from the build), the Node version, the architecture and Node's options; the
 * four newest of each bundle are kept. V8 refuses a cache
 * made by another V8 or under other flags; this launcher also ignores one that is not a regular
 * file owned by this user. A missing or refused cache is written when the command exits, through
 * a temporary file and a rename. CANON_REASON_CODE_CACHE=off compiles from source and writes
 * nothing. The cache holds compiled code only: nothing a run records depends on it.
 */
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import Module from "node:module";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { Script } from "node:vm";

/** Command name -> bundle file and its sha256, written by scripts/bundle.mjs; "" is the help bundle. */
declare const CANON_BUNDLES: Readonly<Record<string, { file: string; sha256: string }>>;

const CACHE_DIR_ENV = "CANON_REASON_CACHE_DIR";

function cacheDir(env: NodeJS.ProcessEnv): string | null {
  if (env.CANON_REASON_CODE_CACHE === "off") return null;
  const set = env[CACHE_DIR_ENV];
  if (set !== undefined && set !== "") return isAbsolute(set) ? join(set, "v8") : null;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), ".cache");
  return join(base, "canon-reason", "v8");
}

/** The cache's bytes when it is a regular file of this user's; else undefined (compile from source). */
function readCache(file: string): Buffer | undefined {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO put where the cache goes must not wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Caches kept per bundle file name (other builds, Node versions, flags); the oldest go first. */
const KEPT_PER_BUNDLE = 4;

/**
 * A temporary file older than this was left by a process killed while writing it (a write takes
 * milliseconds), so it is removed; a younger one may be another process's write in progress.
 */
const STALE_TEMPORARY_MS = 10 * 60_000;

function writeCache(file: string, data: Buffer, bundleFile: string): void {
  const dir = dirname(file);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    const entries = readdirSync(dir)
      .filter((name) => name.startsWith(`${bundleFile}-`))
      .map((name) => ({ name, path: join(dir, name), at: statSync(join(dir, name)).mtimeMs }));
    const older = entries
      .filter(({ name }) => !name.includes(".tmp-"))
      .sort((a, b) => b.at - a.at)
      .slice(KEPT_PER_BUNDLE);
    const abandoned = entries.filter(
      ({ name, at }) => name.includes(".tmp-") && Date.now() - at > STALE_TEMPORARY_MS,
    );
    for (const { path } of [...older, ...abandoned]) rmSync(path, { force: true });
  } catch {
    // A read-only or full disk costs the next start its compile, nothing else.
  }
}

/**
 * V8 refuses a cache made under other V8 flags, so each set of Node options (the command line's
 * and NODE_OPTIONS) has caches of its own, named by a short hash of them, instead of
 * overwriting each other's.
 */
function optionsKey(): string {
  const options = `${process.execArgv.join(" ")}\0${process.env.NODE_OPTIONS ?? ""}`;
  if (options === "\0") return "";
  let h = 0x811c9dc5;
  for (let i = 0; i < options.length; i++) h = Math.imul(h ^ options.charCodeAt(i), 0x01000193);
  return `-${(h >>> 0).toString(16)}`;
}

/** The bundle a command line runs, as main.ts's invokedCommand picks the command (`help X` is X). */
function bundleFor(args: readonly string[]): { file: string; sha256: string } {
  const first = args[0] === "help" ? args[1] : args[0];
  const named = first === undefined ? undefined : CANON_BUNDLES[first];
  return named ?? (CANON_BUNDLES[""] as { file: string; sha256: string });
}

/**
 * A command's help compiles little of its bundle, and a cache V8 accepts is never rewritten: the
 * cache of a command's bundle is written by a run of the command, not by its help.
 */
const helpOnly = (args: readonly string[]) =>
  args[0] === "help" || args.includes("--help") || args.includes("-h");

function run(): void {
  const args = process.argv.slice(2);
  const bundle = bundleFor(args);
  const writes = bundle.file === CANON_BUNDLES[""]?.file || !helpOnly(args);
  const file = join(__dirname, bundle.file);
  const dir = cacheDir(process.env);
  const cacheFile =
    dir === null
      ? null
      : join(
          dir,
          `${bundle.file}-${bundle.sha256.slice(0, 16)}-${process.version}-${process.arch}${optionsKey()}`,
        );
  const cachedData = cacheFile === null ? undefined : readCache(cacheFile);
  const source = readFileSync(file, "utf8");
  // The bundle keeps main.ts's `#!` line, which is not JavaScript inside the module wrapper.
  const script = new Script(Module.wrap(source.startsWith("#!") ? `//${source.slice(2)}` : source), {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (cacheFile !== null && writes && (cachedData === undefined || script.cachedDataRejected === true))
    // At exit, so the cache also holds the functions this command compiled as it ran.
    process.once("exit", () => writeCache(cacheFile, script.createCachedData(), bundle.file));
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  const mod = new Module(file, module);
  mod.filename = file;
  wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
}

run();
