/**
 * src/app/verify/diff.ts against temporary folders: two run directories and the stores that hold their
 * snapshots. The same run is identical; one changed input is named as the first changed layer
 * (spec, index, corpus, with the corpus's changed documents when both stores hold them); a
 * store without the snapshot still diffs (no document detail); a run whose spec does not parse
 * is E_NOT_A_RUN rather than a layer blamed for it.
 */
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { diffRunDirectories, readRunDiff } from "../../src/app/verify/diff.js";
import { thrown } from "../helpers/canon-error.js";
import { type JobRun, jobRun } from "../helpers/job-run.js";
import { SMALL_CORPUS } from "../helpers/produce.js";
import { tempDir } from "../helpers/tmp.js";

let base: JobRun;

beforeAll(async () => {
  base = await jobRun();
});

const at = (run: JobRun) => ({ runDir: run.runDir, storeRoot: run.root });

describe("diffRunDirectories", () => {
  it("a run against itself, and against the same run made elsewhere, is identical", async () => {
    const same = diffRunDirectories(at(base), at(base));
    expect(same).toMatchObject({ identical: true, first_layer: null, consequences: [] });
    const elsewhere = await jobRun({ corpus: SMALL_CORPUS });
    expect(diffRunDirectories(at(base), at(elsewhere)).identical).toBe(true);
  });

  it("a reworded question is first a spec change; a top_k change first an index change", async () => {
    const reworded = await jobRun({
      root: base.root,
      question: "How do you win a trick in contract bridge?",
    });
    expect(diffRunDirectories(at(base), at(reworded)).first_layer).toBe("spec");
    const topK = await jobRun({ root: base.root, corpus: base.corpus, constraints: { top_k: 2 } });
    const diff = diffRunDirectories(at(base), at(topK));
    expect(diff.first_layer).toBe("index");
    const index = diff.layers.find((l) => l.layer === "index");
    expect(index?.changes).toContainEqual(
      expect.objectContaining({ field: expect.stringMatching(/top_k$/) }),
    );
  });

  it("an edited document is first a corpus change, naming the document when the stores hold both snapshots", async () => {
    const edited = await jobRun({
      corpus: {
        ...SMALL_CORPUS,
        "tea.md": "# Tea ceremony\n\nThe Japanese tea ceremony is called chado, or sado.\n",
      },
    });
    const diff = diffRunDirectories(at(base), at(edited));
    expect(diff.first_layer).toBe("corpus");
    const corpus = diff.layers.find((l) => l.layer === "corpus");
    expect(JSON.stringify(corpus?.detail)).toContain("tea.md");
    // Without the second store the snapshot's documents are unknown: still a diff, with less detail.
    const blind = diffRunDirectories(at(base), { runDir: edited.runDir, storeRoot: tempDir() });
    expect(blind.first_layer).toBe("corpus");
    expect(JSON.stringify(blind.layers.find((l) => l.layer === "corpus")?.detail ?? {})).not.toContain(
      "tea.md",
    );
  });

  it("readRunDiff returns both parsed runs beside the diff", () => {
    const { a, b, diff } = readRunDiff(at(base), at(base));
    expect(a.run?.run_id).toBe(base.runId);
    expect(b.run?.run_id).toBe(base.runId);
    expect(diff.identical).toBe(true);
  });

  it("a run whose spec or trace does not parse, or a folder that is not a run, is E_NOT_A_RUN naming the file", () => {
    for (const [file, content] of [
      ["spec.json", "{"],
      ["trace.jsonl", "\u00ff\u00fe"],
    ] as const) {
      const root = tempDir();
      cpSync(base.root, root, { recursive: true });
      const dir = join(root, "runs", base.runId);
      writeFileSync(join(dir, file), content);
      const error = thrown(() => diffRunDirectories(at(base), { runDir: dir, storeRoot: root }));
      expect(error.code, file).toBe("E_NOT_A_RUN");
      expect(error.message).toContain(file);
    }
    expect(() => diffRunDirectories(at(base), { runDir: tempDir(), storeRoot: tempDir() })).toThrow(
      expect.objectContaining({ code: "E_NOT_A_RUN" }),
    );
  });
});
