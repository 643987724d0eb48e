/** `canon-reason gc`: remove store objects no run, ref or item needs (issue 21, item 3). */

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { Registry } from "../../app/registry.js";
import { action, artifactsRoot, parseIntOption, printJson, withRegistry } from "../shared.js";

interface GcCliOptions {
  artifactsDir?: string;
  dryRun?: boolean;
  grace: number;
  pruneCache?: boolean;
  registry?: string;
  json?: boolean;
}

export function registerGc(program: Command): void {
  withRegistry(
    program
      .command("gc")
      .description("remove store objects that no run, ref or item references (--dry-run: only count them)")
      .option("--artifacts-dir <dir>", "artifacts root (runs, store)", ".canon-reason")
      .option("--dry-run", "count what would be removed; remove nothing")
      .option(
        "--grace <seconds>",
        "keep anything modified or used within this many seconds (runs in progress touch what they use)",
        parseIntOption("--grace", { min: 0 }),
        3600,
      )
      .option(
        "--prune-cache",
        "also remove cache refs (corpus snapshots by input, indexes by parameters) whose target no run or item names",
      )
      .option("--json", "print the report as JSON"),
  )
    .addHelpText(
      "after",
      "\nLive: every object a run under runs/ names, every object an item version names (a sha256: corpus, from\nregistry.sqlite and from --registry), and every cache ref's record and target (unless --prune-cache).\nWith runs in progress: nothing modified or used within --grace is removed, and every use of an object\nrefreshes its modification time, so a concurrent run keeps what it needs. Exit 0; bad input exit 2.",
    )
    .action(
      action(async (o: GcCliOptions) => {
        const root = artifactsRoot(o.artifactsDir);
        const { InputError } = await import("../../core/errors.js");
        if (!existsSync(join(root, "store")))
          throw new InputError("E_ARTIFACTS_DIR", "not an artifacts folder (no store/)", {
            file: root,
            field: "--artifacts-dir",
          });
        const { collectGarbage } = await import("../../app/store/gc.js");
        const { registryUrlOf, openSharedRegistry } = await import("../../app/registry.js");
        const registries: Registry[] = [];
        try {
          const { REGISTRY_FILE, SqliteRegistry } = await import("../../app/embedded-registry.js");
          if (existsSync(join(root, REGISTRY_FILE))) registries.push(new SqliteRegistry(root));
          const url = registryUrlOf(o.registry);
          if (url !== undefined) registries.push(await openSharedRegistry(url));
          const report = await collectGarbage({
            artifactsRoot: root,
            dryRun: o.dryRun === true,
            graceMs: o.grace * 1000,
            pruneCache: o.pruneCache === true,
            registries,
          });
          if (o.json === true) printJson(report);
          else
            process.stdout.write(
              `${report.dry_run ? "would remove" : "removed"} ${report.objects_removed} of ${report.objects} store objects (${report.bytes_removed} bytes)${report.refs_removed > 0 ? ` and ${report.refs_removed} cache refs` : ""}; kept ${report.objects_live} named by ${report.runs} runs, ${report.items} item versions and refs, ${report.objects_recent} used within ${report.grace_seconds} s\n`,
            );
          return 0;
        } finally {
          for (const r of registries) await r.close();
        }
      }),
    );
}
