// After tsc: bundle the command line into dist/bin/ with esbuild, so starting it reads a few
// files instead of resolving ~150 ES modules one by one (Node 20 has no compile cache).
// Commands import their work lazily, and esbuild splits each lazy import into its own chunk,
// so `--help` loads commander and the command descriptions only.
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

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
rmSync(outdir, { recursive: true, force: true });
await build({
  // eval-case-thread, index-build-thread and verify-thread are worker_threads entries: eval, the
  // index build and the service's verification resolve "./<name>.js" next to their chunk.
  entryPoints: {
    "canon-reason": "src/cli/main.ts",
    "eval-case-thread": "src/app/eval/eval-case-thread.ts",
    "index-build-thread": "src/io/index-cache/index-build-thread.ts",
    "verify-thread": "src/app/verify/verify-thread.ts",
  },
  outdir: outdir.pathname,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "[name]-[hash]",
  // A native addon cannot be bundled; it is loaded from node_modules when `serve` opens SQLite.
  external: ["better-sqlite3"],
  // Less to parse at every start; identifiers are kept so an internal error stays readable.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  // CommonJS dependencies (Fastify's) call require(); an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __canonCreateRequire } from "node:module"; const require = __canonCreateRequire(import.meta.url);',
  },
  plugins: [lazyChildProcess],
  logLevel: "warning",
});
// npm may link the bin before `prepare` has built it, so the link alone cannot set the bit.
chmodSync(new URL("canon-reason.js", outdir), 0o755);
