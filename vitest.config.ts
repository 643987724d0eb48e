import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // CLI tests spawn real processes; the default 5 s is too tight on a loaded 2-core CI box.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Rebuild records and their key (io/rebuild-records.ts) go here, not to the user's ~/.local/state.
    // The CLI's V8 code cache (src/cli/launcher.ts) too, not the user's ~/.cache.
    env: {
      CANON_REASON_STATE_DIR: join(tmpdir(), "canon-reason-test-state"),
      CANON_REASON_CACHE_DIR: join(tmpdir(), "canon-reason-test-cache"),
    },
  },
});
