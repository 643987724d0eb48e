// Test preload (node --import): prints the process's peak RSS in kB on exit, on a line of its own.
process.on("exit", () => process.stderr.write(`\nmaxrss=${process.resourceUsage().maxRSS}\n`));
