// Preloaded with `node --require` by bench/e2e.mjs: writes the process's peak resident set
// size (bytes) to $CANON_BENCH_RSS_FILE when it exits, so memory is measured in the process
// that did the work, not in the benchmark driver.
const { writeFileSync } = require("node:fs");

process.on("exit", () => {
  writeFileSync(process.env.CANON_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
