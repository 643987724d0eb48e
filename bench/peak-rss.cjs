// Preloaded with `node --require` by bench/e2e.mjs and bench/verify.mjs: writes the process's
// peak resident set size (bytes) to $CANON_BENCH_RSS_FILE when it exits, so memory is measured
// in the process that did the work, not in the benchmark driver. With $CANON_BENCH_USAGE_FILE,
// also {rss (bytes), cpu (user + system ms)} as JSON there.
const { writeFileSync } = require("node:fs");

process.on("exit", () => {
  const usage = process.resourceUsage();
  const rss = usage.maxRSS * 1024;
  if (process.env.CANON_BENCH_RSS_FILE) writeFileSync(process.env.CANON_BENCH_RSS_FILE, String(rss));
  if (process.env.CANON_BENCH_USAGE_FILE)
    writeFileSync(
      process.env.CANON_BENCH_USAGE_FILE,
      JSON.stringify({ rss, cpu: (usage.userCPUTime + usage.systemCPUTime) / 1000 }),
    );
});
