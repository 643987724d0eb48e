// After tsc: make the CLI entry executable. tsc writes mode 0644, and npm may link the bin
// before `prepare` has built it, so the link alone cannot set the bit on a fresh clone.
import { chmodSync } from "node:fs";

chmodSync(new URL("../dist/cli/main.js", import.meta.url), 0o755);
