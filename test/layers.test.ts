/**
 * The project's arrows point inward (CONTRIBUTING.md "Arrows point inward"): the core imports no edge,
 * and the verifier imports nothing from the producer or the executor, so a producer bug is
 * never reproduced by the check meant to catch it (issue 8, docs/design.md §5).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of a file, as a path under src/ (".js" suffixes as written). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/from "(\.[^"]+)"/g)].map((m) =>
    relative(SRC, resolve(dirname(file), m[1] as string)).replaceAll("\\", "/"),
  );
}

const under = (folder: string) =>
  sources(join(SRC, folder)).map((f) => [relative(SRC, f), importsOf(f)] as const);

describe("layers", () => {
  it("core/verify imports nothing from the producer, the executor or the edges", () => {
    const files = under("core/verify");
    expect(files.length).toBeGreaterThan(10);
    for (const [file, imports] of files)
      for (const target of imports)
        expect(target, `${file} imports ${target}`).not.toMatch(/^(core\/pipeline|io|app|cli)\//);
  });

  it("core imports no edge (io, app, cli)", () => {
    for (const [file, imports] of under("core"))
      for (const target of imports)
        expect(target, `${file} imports ${target}`).not.toMatch(/^(io|app|cli)\//);
  });

  it("the run artifact layer imports no producer, verifier or executor", () => {
    for (const [file, imports] of under("core/artifact"))
      for (const target of imports)
        expect(target, `${file} imports ${target}`).not.toMatch(/^core\/(pipeline|verify|plan|reason)\//);
  });

  it("the report pages are pure renderers: no file system, network or process", () => {
    const files = sources(join(SRC, "core/report"));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files)
      expect(readFileSync(file, "utf8"), file).not.toMatch(
        /from "node:(fs|fs\/promises|http|https|net|child_process|process)"/,
      );
  });

  it("commands do not import each other", () => {
    for (const [file, imports] of under("cli/commands"))
      for (const target of imports)
        expect(target, `${file} imports ${target}`).not.toMatch(/^cli\/commands\//);
  });
});
