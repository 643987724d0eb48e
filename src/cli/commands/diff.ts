/** `canon-reason diff`: which layer changed between two runs, and what followed from it (SPEC §6). */
import type { Command } from "commander";
import { diffRunDirectories } from "../../app/diff.js";
import type { RunDiff } from "../../core/diff/diff.js";
import { action, printJson, resolveRunDir } from "../shared.js";
import { storeRootFor } from "./verify.js";

const short = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
};

export function renderDiff(diff: RunDiff, a: string, b: string): string {
  const out = [`A: ${a}`, `B: ${b}`, ""];
  if (diff.identical) return [...out, "IDENTICAL: every layer matches.", ""].join("\n");
  for (const layer of diff.layers) out.push(`  ${layer.changed ? "CHANGED" : "same   "}  ${layer.layer}`);
  const first = diff.layers.find((l) => l.layer === diff.first_layer);
  out.push("", `First changed layer: ${diff.first_layer}`);
  for (const c of first?.changes ?? []) out.push(`  ${c.field}: ${short(c.before)} -> ${short(c.after)}`);
  if (first?.detail) out.push(`  detail: ${JSON.stringify(first.detail)}`);
  if (diff.consequences.length > 0) out.push("", `Changed as a consequence: ${diff.consequences.join(", ")}`);
  const retrieval = diff.layers.find(
    (l) => l.layer === "retrieval" && l.changed && l.layer !== diff.first_layer,
  );
  if (retrieval?.detail) out.push(`  retrieval: ${JSON.stringify(retrieval.detail)}`);
  return `${out.join("\n")}\n`;
}

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description("compare two runs layer by layer and name the first layer that changed")
    .argument("<run-a>", "a run directory or run id")
    .argument("<run-b>", "a run directory or run id")
    .option("--artifacts-dir <dir>", "artifacts root for run ids and stores", ".canon-reason")
    .option("--json", "print the complete comparison as JSON (first_layer, consequences, layers)")
    .addHelpText(
      "after",
      "\nLayers, in pipeline order: producer, spec, plan, runtime, corpus, index, retrieval, evidence,\nreasoner, verification, answer. Exit codes: 0 identical, 1 different, 2 bad input.",
    )
    .action(
      action((refA: string, refB: string, o: { artifactsDir?: string; json?: boolean }) => {
        const a = resolveRunDir(refA, o.artifactsDir);
        const b = resolveRunDir(refB, o.artifactsDir);
        const diff = diffRunDirectories(
          { runDir: a, storeRoot: storeRootFor(a, o.artifactsDir) },
          { runDir: b, storeRoot: storeRootFor(b, o.artifactsDir) },
        );
        if (o.json) printJson({ run_a: a, run_b: b, ...diff });
        else process.stdout.write(renderDiff(diff, a, b));
        return diff.identical ? 0 : 1;
      }),
    );
}
