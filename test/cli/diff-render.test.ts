/** How `diff` reads in a terminal: pinned with an inline snapshot on a small, typed diff. */
import { describe, expect, it } from "vitest";
import { renderDiff } from "../../src/cli/commands/diff.js";
import type { RunDiff } from "../../src/core/diff/diff.js";
import { LAYERS } from "../../src/core/diff/layers.js";

const long =
  "In bridge, a trick is won by the highest card of the suit that was led, unless the trick contains a trump.";

function diffOf(
  changed: Partial<Record<(typeof LAYERS)[number], Partial<RunDiff["layers"][number]>>>,
): RunDiff {
  const layers = LAYERS.map((layer) => ({ layer, changed: false, changes: [], ...changed[layer] }));
  const names = layers.filter((l) => l.changed).map((l) => l.layer);
  return {
    identical: names.length === 0,
    first_layer: names[0] ?? null,
    consequences: names.slice(1),
    layers,
  };
}

describe("renderDiff", () => {
  it("says IDENTICAL when nothing changed", () => {
    expect(renderDiff(diffOf({}), "a", "b")).toMatchInlineSnapshot(`
      "A: a
      B: b

      IDENTICAL: every layer matches.
      "
    `);
  });

  it("names the first layer, its changes and documents, then the consequences", () => {
    const diff = diffOf({
      corpus: {
        changed: true,
        changes: [{ field: "snapshot", before: "aaa", after: "bbb" }],
        detail: {
          added: ["new.md"],
          removed: [],
          changed: ["bridge.md"],
          counts: { added: 1, removed: 0, changed: 1 },
        },
      },
      retrieval: {
        changed: true,
        changes: [],
        detail: {
          gained: ["new.md@0-40"],
          lost: ["bridge.md@0-90"],
          moved: [
            { chunk: "bridge.md@90-180", rank_before: 2, rank_after: 1, score_delta: 0.5 },
            { chunk: "tea.md@0-50", rank_before: 3, rank_after: 3, score_delta: -0.25 },
          ],
        },
      },
      answer: {
        changed: true,
        changes: [
          { field: "answer", before: long, after: long.replace("highest card", "highest-ranked card") },
        ],
      },
    });
    expect(renderDiff(diff, "a", "b")).toMatchInlineSnapshot(`
      "A: a
      B: b

        same     producer
        same     spec
        same     plan
        same     runtime
        CHANGED  corpus
        same     index
        CHANGED  retrieval
        same     evidence
        same     reasoner
        same     verification
        CHANGED  answer

      First changed layer: corpus
        snapshot: "aaa" -> "bbb"
        documents added: new.md
        documents changed: bridge.md

      Changed as a consequence: retrieval, answer
      retrieval:
        gained   new.md@0-40
        lost     bridge.md@0-90
        moved    bridge.md@90-180  rank 2 -> 1, score +0.5
        rescored tea.md@0-50  rank 3 -> 3, score -0.25
      answer:
        answer: "... a trick is won by the highest card of the suit that was led, unless the trick c..." -> "... a trick is won by the highest-ranked card of the suit that was led, unless the ..."

      Use --json for every changed field of every layer.
      "
    `);
  });
});
