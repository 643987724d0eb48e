/** `canon-reason diff`: which layer changed between two runs, and what followed from it (docs/design.md §6). */
import type { Command } from "commander";
import type { JsonValue } from "../../app/run/run-spec.js";
import type { LayerDiff, RunDiff } from "../../app/verify/diff.js";
import { diffRunDirectories } from "../../app/verify/diff.js";
import { action, printJson, resolveRun, withRegistry } from "../shared.js";

const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? "(absent)";
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
};

/** "before -> after"; two long strings are shown around where they first differ. */
function change(before: unknown, after: unknown): string {
  if (typeof before !== "string" || typeof after !== "string" || before.length + after.length < 160)
    return `${short(before)} -> ${short(after)}`;
  let p = 0;
  while (p < before.length && before[p] === after[p]) p++;
  const from = Math.max(0, p - 30);
  const clip = (t: string) =>
    `"${from > 0 ? "..." : ""}${t.slice(from, p + 50)}${t.length > p + 50 ? "..." : ""}"`;
  return `${clip(before)} -> ${clip(after)}`;
}

/** Corpus detail as lines: which documents were added, removed or edited. */
function corpusLines(detail: Record<string, JsonValue>): string[] {
  if (detail.documents_compared === false) return [`  documents not compared: ${String(detail.reason)}`];
  const counts = (detail.counts ?? {}) as Record<string, number>;
  return (["added", "removed", "changed"] as const).flatMap((k) => {
    const ids = (detail[k] ?? []) as string[];
    if (ids.length === 0) return [];
    const more = (counts[k] ?? ids.length) > ids.length ? ` (+${(counts[k] ?? 0) - ids.length} more)` : "";
    return [`  documents ${k}: ${ids.join(", ")}${more}`];
  });
}

/** Retrieval detail as lines: chunks gained and lost, and rank or score moves, by chunk location. */
function retrievalLines(detail: Record<string, JsonValue>): string[] {
  const moved = (detail.moved ?? []) as Array<{
    chunk: string;
    rank_before: number;
    rank_after: number;
    score_delta: number;
  }>;
  const sign = (n: number) => (n >= 0 ? `+${n}` : String(n));
  return [
    ...((detail.gained ?? []) as string[]).map((c) => `  gained   ${c}`),
    ...((detail.lost ?? []) as string[]).map((c) => `  lost     ${c}`),
    ...moved.map(
      (m) =>
        `  ${m.rank_before === m.rank_after ? "rescored" : "moved   "} ${m.chunk}  rank ${m.rank_before} -> ${m.rank_after}, score ${sign(m.score_delta)}`,
    ),
  ];
}

function detailLines(layer: LayerDiff): string[] {
  if (layer.detail === undefined) return [];
  return layer.layer === "corpus" ? corpusLines(layer.detail) : retrievalLines(layer.detail);
}

export function renderDiff(diff: RunDiff, a: string, b: string): string {
  const out = [`A: ${a}`, `B: ${b}`, ""];
  if (diff.identical) return [...out, "IDENTICAL: every layer matches.", ""].join("\n");
  for (const layer of diff.layers) out.push(`  ${layer.changed ? "CHANGED" : "same   "}  ${layer.layer}`);
  const first = diff.layers.find((l) => l.layer === diff.first_layer);
  out.push("", `First changed layer: ${diff.first_layer}`);
  for (const c of first?.changes ?? []) out.push(`  ${c.field}: ${change(c.before, c.after)}`);
  if (first !== undefined) out.push(...detailLines(first));
  if (diff.consequences.length > 0) {
    out.push("", `Changed as a consequence: ${diff.consequences.join(", ")}`);
    // The two consequences a reader asks about first: how the ranking moved, and the answer.
    for (const name of ["retrieval", "answer"] as const) {
      const layer = diff.layers.find((l) => l.layer === name && l.changed && l.layer !== diff.first_layer);
      if (layer === undefined) continue;
      out.push(`${name}:`);
      if (name === "retrieval") out.push(...detailLines(layer));
      else for (const c of layer.changes.slice(0, 4)) out.push(`  ${c.field}: ${change(c.before, c.after)}`);
    }
  }
  out.push("", "Use --json for every changed field of every layer.");
  return `${out.join("\n")}\n`;
}

export function registerDiff(program: Command): void {
  withRegistry(
    program
      .command("diff")
      .description("compare two runs layer by layer and name the first layer that changed")
      .argument("<run-a>", "a run directory or run id")
      .argument("<run-b>", "a run directory or run id")
      .option("--artifacts-dir <dir>", "artifacts root for run ids and stores", ".canon-reason"),
  )
    .option("--json", "print the complete comparison as JSON (first_layer, consequences, layers)")
    .addHelpText(
      "after",
      "\nLayers, in pipeline order: producer, spec, plan, runtime, corpus, index, retrieval, evidence,\nreasoner, verification, answer. Exit codes: 0 identical, 1 different, 2 bad input.",
    )
    .action(
      action(
        async (
          refA: string,
          refB: string,
          o: { artifactsDir?: string; registry?: string; json?: boolean },
        ) => {
          const runA = await resolveRun(refA, o);
          const runB = await resolveRun(refB, o);
          const a = runA.runDir;
          const b = runB.runDir;
          const diff = diffRunDirectories(runA, runB);
          if (o.json) printJson({ run_a: a, run_b: b, ...diff });
          else process.stdout.write(renderDiff(diff, a, b));
          return diff.identical ? 0 : 1;
        },
      ),
    );
}
