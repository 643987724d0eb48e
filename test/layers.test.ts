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

/** Every relative import of a file (type-only, re-exports and `import()` too), as a path under src/ (".js" suffixes as written). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import\()\s*"(\.[^"]+)"/g)].map((m) =>
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

  /**
   * The edges parse, call one use case of app/ and render (issue 23): they reach core/, io/ and
   * registry/ only through app/, apart from the domain schemas and the error type. An edge may
   * host a lower one: the CLI starts the service (http/start.ts) and the queue worker, and the
   * service and `eval --queue` submit jobs (queue/); nothing below calls back up.
   */
  const EDGE_MAY_IMPORT: Record<string, RegExp> = {
    cli: /^(app|cli|http|queue)\/|^core\/(models\/|errors\.js$)|^version\.js$/,
    http: /^(app|http|queue)\/|^core\/(models\/|errors\.js$)|^version\.js$/,
    queue: /^(app|queue)\/|^core\/(models\/|errors\.js$)|^version\.js$/,
  };

  for (const [edge, allowed] of Object.entries(EDGE_MAY_IMPORT))
    it(`${edge}/ imports only app/, core/models, core/errors and the edges below it`, () => {
      const files = under(edge);
      expect(files.length).toBeGreaterThan(3);
      for (const [file, imports] of files)
        for (const target of imports) expect(target, `${file} imports ${target}`).toMatch(allowed);
    });

  it("the CLI starts the service only through http/start.ts", () => {
    for (const [file, imports] of under("cli"))
      for (const target of imports)
        if (target.startsWith("http/")) expect(target, `${file} imports ${target}`).toBe("http/start.js");
  });

  it("commands do not import each other", () => {
    for (const [file, imports] of under("cli/commands"))
      for (const target of imports)
        expect(target, `${file} imports ${target}`).not.toMatch(/^cli\/commands\//);
  });
});
