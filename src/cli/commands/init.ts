/** `canon-reason init`: write a sample spec that points at the bundled demo corpus. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { atFsBoundary, packageFile } from "../../app/store/artifacts.js";
import { InputError } from "../../core/errors.js";
import { action } from "../shared.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("write a sample spec (canon-spec.json) that points at the bundled demo corpus")
    .option("--target <dir>", "where to write it", ".")
    .option("--force", "overwrite an existing canon-spec.json")
    .action(
      action((o: { target: string; force?: boolean }) => {
        const target = resolve(o.target);
        const file = join(target, "canon-spec.json");
        if (existsSync(file) && !o.force) {
          throw new InputError("E_USAGE", "already exists (use --force to overwrite)", { file });
        }
        const at = {
          code: "E_OUTPUT" as const,
          doing: "cannot write the sample spec",
          path: target,
          field: "--target",
        };
        atFsBoundary(at, () => mkdirSync(target, { recursive: true }));
        const corpus = relative(target, packageFile("demo/corpus")).split("\\").join("/") || ".";
        const spec = {
          version: "1",
          description: "How is a trick won in contract bridge?",
          constraints: { corpus, top_k: 5, min_supports_per_claim: 1, max_citations: 2 },
        };
        atFsBoundary(at, () => writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`));
        process.stdout.write(
          `wrote ${file}\nnext: npx canon-reason run --spec ${relative(process.cwd(), file) || file}\n`,
        );
        return 0;
      }),
    );
}
