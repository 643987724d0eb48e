/**
 * The public library API (src/index.ts, built to dist/index.js) is a decision, not a side effect:
 * this pins its exact export list, each value with its kind (function, class, zod schema or other
 * constant) as dist/index.js has it and each type-only name as src/index.ts declares it. Adding,
 * removing or renaming an export fails here until the list, docs/library.md (which must name
 * every export) and CHANGELOG.md move with it. The page's example is run against the built
 * package, resolved by its name as a user's project resolves it, so the page cannot rot.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { fencedBlocks, outputMatches } from "./docs/blocks.js";
import { REPO } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

type Kind = "function" | "class" | "schema" | "const";

/** Every runtime export of dist/index.js, by name. */
const VALUES: Record<string, Kind> = {
  ANALYZERS: "const",
  AnswerCitation: "schema",
  AnswerView: "schema",
  ByteSpan: "schema",
  CLAIM_STATUSES: "const",
  CanonError: "class",
  CheckResult: "schema",
  Citation: "schema",
  Claim: "schema",
  Constraints: "schema",
  DEFAULT_ENDPOINT_SETTINGS: "const",
  DEFAULT_PRESET: "const",
  ERROR_CODES: "const",
  EvidenceRef: "schema",
  Expected: "schema",
  Finding: "schema",
  InputError: "class",
  JsonObject: "schema",
  LAYERS: "const",
  MANIFEST_VERSION: "const",
  MAX_BASE_URL: "const",
  MAX_MODEL_NAME: "const",
  MODEL_CALL_FILE: "const",
  MODEL_CALL_VERSION: "const",
  MODEL_SCHEMAS: "const",
  Manifest: "schema",
  ModelCall: "schema",
  ModelCallRef: "schema",
  NODE_KINDS: "const",
  PLAN_VERSION: "const",
  POLICIES: "const",
  PRESETS: "const",
  PRODUCER: "const",
  Plan: "schema",
  PlanNode: "schema",
  ProblemSpec: "schema",
  Producer: "schema",
  REASONERS: "const",
  REPORT_VERSION: "const",
  RUN_VERSION: "const",
  RetrievalHit: "schema",
  RetrievalProvenance: "schema",
  RetrievePayload: "schema",
  RunInputs: "schema",
  RunRecord: "schema",
  Runtime: "schema",
  SEVERITIES: "const",
  SPEC_VERSION: "const",
  Sha256Hex: "schema",
  Signature: "schema",
  StepOutput: "schema",
  Support: "schema",
  TRACE_VERSION: "const",
  TermStats: "schema",
  ToolCall: "schema",
  ToolDescriptor: "schema",
  ToolRequest: "schema",
  ToolResult: "schema",
  TraceEvent: "schema",
  TraceHeader: "schema",
  VerificationReport: "schema",
  callModel: "function",
  canonicalJson: "function",
  chatRequest: "function",
  contentId: "function",
  diffRunDirectories: "function",
  diffRuns: "function",
  execute: "function",
  exportRun: "function",
  extractiveReasoner: "const",
  firstDivergence: "function",
  frozenDispatcher: "function",
  idOf: "function",
  importRun: "function",
  isBaseUrl: "function",
  liveDispatcher: "function",
  liveTools: "function",
  llmInputOf: "function",
  llmReasoner: "const",
  loadBeir: "function",
  loadSuite: "function",
  modelCallPath: "function",
  modelJsonSchemas: "function",
  needsModelCall: "function",
  planFor: "function",
  produceRun: "function",
  replayRunDirectory: "function",
  resolveParams: "function",
  runEval: "function",
  runJob: "function",
  sha256Hex: "function",
  verify: "function",
  verifyRunDirectory: "function",
  withId: "function",
  withRationales: "function",
};

/** Every export of src/index.ts that is a type only (interfaces and type aliases). */
const TYPES = [
  "CaseResult",
  "Derivation",
  "Divergence",
  "EndpointSettings",
  "EvalCase",
  "EvalInput",
  "EvalOptions",
  "ExecuteOptions",
  "FieldChange",
  "Layer",
  "LayerDiff",
  "NodeKind",
  "Policy",
  "ProduceOptions",
  "Reasoner",
  "ReasonerInput",
  "ReplayResult",
  "RunDiff",
  "RunJobOptions",
  "RunJobResult",
  "Severity",
  "SnapshotDocuments",
  "ToolDispatcher",
  "Trace",
  "VerifyDirectoryOptions",
  "VerifyInput",
];

const api = (await import(new URL("../dist/index.js", import.meta.url).href)) as Record<string, unknown>;

function kindOf(value: unknown): Kind {
  if (typeof value === "function")
    return /^class\b/.test(Function.prototype.toString.call(value)) ? "class" : "function";
  const schema =
    typeof value === "object" && value !== null && typeof Reflect.get(value, "safeParse") === "function";
  return schema ? "schema" : "const";
}

/** The names src/index.ts exports, split into values and type-only names, as the compiler sees them. */
function sourceExports(): { values: string[]; types: string[] } {
  const entry = join(REPO, "src", "index.ts");
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    // Only the export graph is needed, not the standard library's types: much faster to bind.
    noLib: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry);
  const module = file === undefined ? undefined : checker.getSymbolAtLocation(file);
  if (module === undefined) throw new Error("src/index.ts did not load");
  const values: string[] = [];
  const types: string[] = [];
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
  }
  return { values: values.sort(), types: types.sort() };
}

const page = readFileSync(join(REPO, "docs", "library.md"), "utf8");

describe("the public API of src/index.ts", () => {
  it("dist/index.js exports exactly the pinned values, each of its pinned kind", () => {
    const actual = Object.fromEntries(
      Object.keys(api)
        .sort()
        .map((name) => [name, kindOf(api[name])]),
    );
    expect(actual).toEqual(VALUES);
  });

  it("src/index.ts exports the same values (the build is current) and exactly the pinned type-only names", () => {
    const { values, types } = sourceExports();
    expect(values).toEqual(Object.keys(VALUES).sort());
    expect(types).toEqual([...TYPES].sort());
  });

  it("docs/library.md names every export, and no name that is not one", () => {
    const named = new Set([...page.matchAll(/^\s*\| `([A-Za-z_$][\w$]*)`/gm)].map((m) => m[1] as string));
    const exported = [...Object.keys(VALUES), ...TYPES].sort();
    expect(exported.filter((name) => !named.has(name))).toEqual([]);
    expect([...named].filter((name) => !exported.includes(name)).sort()).toEqual([]);
  });

  it("docs/library.md's example runs against the built package and prints what the page shows", () => {
    const blocks = fencedBlocks(page);
    const at = blocks.findIndex((b) => b.lang === "js" && b.tags.includes("example"));
    const example = blocks[at];
    const output = blocks[at + 1];
    expect(example, "a ```js example block").toBeDefined();
    expect(output?.lang, "a ```text block with its output right after it").toBe("text");
    // A project that installed the package: node_modules/canon-reason is this checkout.
    const project = tempDir("canon-library-");
    mkdirSync(join(project, "node_modules"));
    symlinkSync(REPO, join(project, "node_modules", "canon-reason"), "dir");
    writeFileSync(join(project, "example.mjs"), example?.content ?? "");
    const r = spawnSync(process.execPath, ["example.mjs"], {
      cwd: project,
      encoding: "utf8",
      env: { ...process.env, TMPDIR: tempDir("canon-library-tmp-") },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(outputMatches(r.stdout, output?.content ?? ""), r.stdout).toBe(true);
  });
});
