// After tsc: bundle the command line into dist/bin/ with esbuild, so starting it reads a few
// files instead of resolving ~150 ES modules one by one. Each command gets a bundle of its own,
// cli-<module>.js: main.ts with that command's module and nothing of the others (cli-help.js
// has none, for the program's help and version). They are CommonJS (dist/bin/package.json says
// so), because Node 20 can give V8 a code cache for a CommonJS script and not for an ES module:
// canon-reason.js, the launcher (src/cli/launcher.ts), picks the bundle from the command line and
// runs it with this user's cache of its compiled code.
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { COMMANDS } from "../dist/cli/command-table.js";

const outdir = new URL("../dist/bin/", import.meta.url);

// commander requires node:child_process at load, for executable subcommands, which this CLI has
// none of; loading it pulls in net, dgram and the stream stack (about 5 ms of every start).
// Its require is given a stand-in that loads child_process on the first spawn.
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes("/node_modules/commander/")
        ? { path: "child_process", namespace: "lazy" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy" }, () => ({
      contents: 'let cp; exports.spawn = (...args) => (cp ??= require("node:child_process")).spawn(...args);',
      loader: "js",
    }));
  },
};

// A bundle runs as a vm.Script (src/cli/launcher.ts), which has no dynamic import() of its own:
// `await import("node:zlib")` in the source (a builtin loaded only when needed) becomes a lazy
// require of a stand-in module, as esbuild does for a bundled module's import().
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: /^node:[a-z_]+$/ }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, namespace: "lazy-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/** The command modules main.ts can load, as command-table.ts names them ("./commands/run.js"). */
const commandModule = (entry) => /import\("(\.\/commands\/[a-z-]+)\.js"\)/.exec(entry.load.toString())?.[1];
const modules = [...new Set(COMMANDS.map(commandModule))];
if (modules.some((m) => m === undefined)) throw new Error("a command's load() names no ./commands/ module");

/** In the bundle of `keep` (or of none), every other command module is a stand-in never loaded. */
const onlyCommand = (keep) => ({
  name: "only-command",
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) =>
      args.importer.endsWith("command-table.ts") && args.path.replace(/\.js$/, "") !== keep
        ? { path: args.path, namespace: "other-command" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "other-command" }, () => ({
      contents: 'throw new Error("canon-reason: this bundle was built without that command");',
      loader: "js",
    }));
  },
});

const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // A native addon cannot be bundled; it is loaded from node_modules when `serve` opens SQLite.
  external: ["better-sqlite3"],
  // Less to parse at every start; identifiers are kept so an internal error stays readable.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  // Worker threads and the package's own files are found from the running bundle's location.
  define: { "import.meta.url": "__canonModuleUrl" },
  banner: { js: 'var __canonModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
};

rmSync(outdir, { recursive: true, force: true });
const bundleName = (m) => (m === null ? "cli-help.js" : `cli-${m.slice("./commands/".length)}.js`);
await Promise.all([
  ...[null, ...modules].map((m) =>
    build({
      ...common,
      entryPoints: ["src/cli/main.ts"],
      outfile: new URL(bundleName(m), outdir).pathname,
      plugins: [lazyChildProcess, lazyBuiltins, onlyCommand(m)],
    }),
  ),
  // worker_threads entries: eval, the index build and the service's verification start
  // "./<name>.js" next to the bundle that runs them.
  build({
    ...common,
    entryPoints: {
      "eval-case-thread": "src/app/eval/eval-case-thread.ts",
      "index-build-thread": "src/io/index-cache/index-build-thread.ts",
      "verify-thread": "src/app/verify/verify-thread.ts",
    },
    outdir: outdir.pathname,
    plugins: [lazyBuiltins],
  }),
]);

// esbuild leaves non-ASCII characters in regular expression literals (the sentence splitter's
// quotes), and one such character makes V8 hold the whole bundle's source as a two-byte string
// (1.9 MB for `run` instead of 0.96 MB). Each UTF-16 unit outside ASCII becomes a \\uXXXX escape,
// which means the same in a regular expression (with or without the u flag: an escaped surrogate
// pair is one code point), a string, a template or an identifier. No bundle uses String.raw.
for (const name of readdirSync(outdir)) {
  if (!name.endsWith(".js")) continue;
  const file = new URL(name, outdir);
  const text = readFileSync(file, "utf8");
  if (/[\u0080-\uffff]/.test(text))
    writeFileSync(
      file,
      text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    );
}

const sha256 = (file) =>
  createHash("sha256")
    .update(readFileSync(new URL(file, outdir)))
    .digest("hex");
const bundles = { "": { file: bundleName(null), sha256: sha256(bundleName(null)) } };
for (const entry of COMMANDS) {
  const file = bundleName(commandModule(entry));
  for (const name of entry.names) bundles[name] = { file, sha256: sha256(file) };
}
await build({
  ...common,
  entryPoints: ["src/cli/launcher.ts"],
  outfile: new URL("canon-reason.js", outdir).pathname,
  define: { CANON_BUNDLES: JSON.stringify(bundles) },
  banner: { js: "#!/usr/bin/env node" },
});
writeFileSync(new URL("package.json", outdir), '{ "type": "commonjs" }\n');
// npm may link the bin before `prepare` has built it, so the link alone cannot set the bit.
chmodSync(new URL("canon-reason.js", outdir), 0o755);
