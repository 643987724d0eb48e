// Preloaded with `node --require` by bench/e2e.mjs and bench/verify.mjs: writes the process's
// peak resident set size (bytes) to $CANON_BENCH_RSS_FILE when it exits, so memory is measured
// in the process that did the work, not in the benchmark driver. With $CANON_BENCH_USAGE_FILE,
// also {rss (bytes), cpu (user + system ms)} as JSON there.
//
// On Linux the peak is VmHWM (this process image's high-water mark): getrusage's maxRSS survives
// exec, so a child spawned by a large driver reports at least the driver's size, forked before exec.
const { readFileSync, writeFileSync } = require("node:fs");

function peakRss(usage) {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm !== null) return Number(hwm[1]) * 1024;
  } catch {
    // Not Linux: getrusage's figure.
  }
  return usage.maxRSS * 1024;
}

process.on("exit", () => {
  const usage = process.resourceUsage();
  const rss = peakRss(usage);
  if (process.env.CANON_BENCH_RSS_FILE) writeFileSync(process.env.CANON_BENCH_RSS_FILE, String(rss));
  if (process.env.CANON_BENCH_USAGE_FILE)
    writeFileSync(
      process.env.CANON_BENCH_USAGE_FILE,
      JSON.stringify({ rss, cpu: (usage.userCPUTime + usage.systemCPUTime) / 1000 }),
    );
});
