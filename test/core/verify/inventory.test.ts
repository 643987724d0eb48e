/**
 * The forgery generator over the field inventory (issue 19 item 2). For runs of every kind
 * (extractive 2 answered and insufficient, the legacy retrieve tool 1 / extractive 1 / index
 * format 1 run, the llm reasoner from a recording, a signed run, an eval-style case with a preset
 * and overridden constraints), every field of every file is mutated in turn (numbers nudged,
 * strings swapped with a plausible value from another run or edited, booleans flipped, arrays
 * reordered, keys dropped), the run is re-sealed the way the producer seals it, and `verify`
 * (default policy) must FAIL, unless the inventory calls the field a label. A field that has no
 * inventory entry fails the suite.
 *
 * `npm test` runs a fixed sample of the mutations; CANON_REASON_FORGERY_MATRIX=full (set by
 * .ci/run) runs all of them.
 */
import { describe, expect, it } from "vitest";
import { jsonFile, RUN_FILES, type RunFiles } from "../../../src/core/artifact/files.js";
import { canonicalJson } from "../../../src/core/canonical.js";
import type { ReasonerInput } from "../../../src/core/reason/reasoner.js";
import {
  FIELD_INVENTORY,
  type Field,
  fieldEntry,
  labelFields,
  recordedLabels,
  runFields,
} from "../../../src/core/verify/inventory.js";
import { verifyRun } from "../../../src/core/verify/verifier.js";
import { resealManifest, resealRun } from "../../helpers/forge.js";
import {
  answeredRun,
  type Fixture,
  insufficientRun,
  keyPair,
  llmRun,
  produce,
  QUESTION,
  signedFiles,
} from "./checks/fixture.js";

const FULL = process.env.CANON_REASON_FORGERY_MATRIX === "full";
/** In the quick suite, one mutation in this many (a fixed stride, the same on every run). */
const STRIDE = 13;

function goodAnswer(input: ReasonerInput): string {
  const n = input.evidence.findIndex((e) => e.text.includes("a trick is won by the highest card")) + 1;
  return JSON.stringify({
    claims: [
      {
        statement: "The highest card of the suit led wins the trick, unless a trump is played.",
        citations: [{ evidence: n, quote: "a trick is won by the highest card of the suit that was led" }],
      },
    ],
  });
}

const KEY = keyPair();

/**
 * Forgeries this branch does not close, each with the item that does. A signature stripped of its
 * carried key is a warning (SIGNATURE_UNVERIFIED) under the default policy: issue 19 item 6
 * (signatures, worked on separately) makes it "signed, not verified" and fails --require-signature.
 */
const DEFERRED: ReadonlyArray<{ pattern: string; what: string; item: string }> = [
  { pattern: "signature.json:public_key", what: "dropped", item: "issue 19 item 6" },
];

interface Kind {
  name: string;
  fixture: Fixture;
  files: RunFiles;
  privateKeyPem?: string;
}

function kinds(): Kind[] {
  const answered = answeredRun();
  const plain = (name: string, fixture: Fixture): Kind => ({ name, fixture, files: fixture.files });
  return [
    plain("extractive (the current version), answered", answered),
    plain("extractive (the current version), insufficient", insufficientRun()),
    plain("retrieve tool 1, extractive 1, index format 1", produce(QUESTION, { legacy: true })),
    plain("llm (the current version) from a recording", llmRun(goodAnswer)),
    {
      name: "signed",
      fixture: answered,
      files: signedFiles(answered, KEY.privatePem),
      privateKeyPem: KEY.privatePem,
    },
    plain(
      "an eval case (preset quick, constraints overridden)",
      produce("What decides the trump suit in bridge?", {
        preset: "quick",
        constraints: { min_confidence: 0.3, top_k: 4, index_titles: false },
      }),
    ),
  ];
}

const KINDS = kinds();

const verdict = (kind: Kind, files: ReadonlyMap<string, Uint8Array>) =>
  verifyRun({ files, store: kind.fixture.store, policy: "audit", stage: "sealed" });

interface Mutation {
  field: Field;
  what: string;
  apply: (value: unknown) => { value?: unknown; drop?: true };
}

/** Plausible replacements for a field: the values the same pattern has in the other runs. */
const PLAUSIBLE = new Map<string, unknown[]>();
for (const kind of KINDS)
  for (const f of runFields(kind.files)) {
    const seen = PLAUSIBLE.get(f.pattern) ?? [];
    if (!seen.some((v) => canonicalJson(v as never) === canonicalJson(f.value as never))) seen.push(f.value);
    PLAUSIBLE.set(f.pattern, seen);
  }

function nudge(n: number): number {
  if (Number.isInteger(n)) return n + 1;
  return n === 0 ? 0.01 : n * 1.01;
}

function edit(s: string): string {
  if (/^[0-9a-f]{64}$/.test(s)) return `${s.slice(0, -1)}${s.endsWith("0") ? "1" : "0"}`;
  const at = s.search(/[a-z]/i);
  if (at < 0) return `${s}x`;
  const c = s[at] as string;
  return `${s.slice(0, at)}${c === "a" ? "b" : "a"}${s.slice(at + 1)}`;
}

/** Every type-preserving mutation of one field. */
function mutationsOf(field: Field): Mutation[] {
  const out: Mutation[] = [];
  const v = field.value;
  const other = (PLAUSIBLE.get(field.pattern) ?? []).find(
    (p) => canonicalJson(p as never) !== canonicalJson(v as never),
  );
  if (typeof v === "number")
    out.push({ field, what: `nudged to ${nudge(v)}`, apply: () => ({ value: nudge(v) }) });
  if (typeof v === "boolean") out.push({ field, what: "flipped", apply: () => ({ value: !v }) });
  if (typeof v === "string") {
    out.push({ field, what: "edited", apply: () => ({ value: edit(v) }) });
    if (typeof other === "string") out.push({ field, what: "swapped", apply: () => ({ value: other }) });
  }
  if (v === null && other !== undefined)
    out.push({ field, what: "swapped", apply: () => ({ value: other }) });
  if (Array.isArray(v) && v.length >= 2) {
    const reversed = [...v].reverse();
    if (canonicalJson(reversed) !== canonicalJson(v))
      out.push({ field, what: "reordered", apply: () => ({ value: reversed }) });
  }
  if (typeof field.keys.at(-1) === "string")
    out.push({ field, what: "dropped", apply: () => ({ drop: true }) });
  return out;
}

/** Sets (or drops) the value at keys inside a parsed JSON value. */
function setIn(
  root: unknown,
  keys: ReadonlyArray<string | number>,
  change: { value?: unknown; drop?: true },
) {
  if (keys.length === 0) return change.value;
  let parent = root as Record<string | number, unknown>;
  for (const k of keys.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = keys.at(-1) as string | number;
  if (change.drop === true) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = change.value;
  return root;
}

/** The run with one mutation made to its bytes (nothing re-sealed). */
function mutated(files: ReadonlyMap<string, Uint8Array>, m: Mutation): RunFiles | null {
  const out: RunFiles = new Map(files);
  const { path, line, keys } = m.field;
  const bytes = files.get(path);
  if (bytes === undefined) return null;
  const text = Buffer.from(bytes).toString("utf8");
  const change = m.apply(m.field.value);
  if (path === RUN_FILES.trace) {
    const lines = text.trimEnd().split("\n");
    const i = line as number;
    lines[i] = canonicalJson(setIn(JSON.parse(lines[i] as string), keys, change) as never);
    out.set(path, Buffer.from(`${lines.join("\n")}\n`, "utf8"));
  } else if (path.endsWith(".json")) {
    out.set(path, jsonFile(setIn(JSON.parse(text), keys, change)));
  } else out.set(path, Buffer.from(String(change.value), "utf8"));
  return out;
}

interface Trial {
  kind: Kind;
  mutation: Mutation;
}

function trials(kind: Kind): Trial[] {
  const all: Trial[] = [];
  for (const field of runFields(kind.files)) {
    const entry = fieldEntry(field.pattern);
    if (entry === undefined || entry.kind === "label") continue;
    // A whole JSON file is covered by its fields; a whole text file (evidence) is mutated as text.
    if (field.pattern === "model/*.json:") continue;
    if (field.value === null && field.keys.length === 0) continue;
    for (const mutation of mutationsOf(field))
      if (!DEFERRED.some((d) => d.pattern === field.pattern && d.what === mutation.what))
        all.push({ kind, mutation });
  }
  return FULL ? all : all.filter((_, i) => i % STRIDE === 0);
}

const SEALS = new Set(["report.json", "manifest.json", "signature.json"]);

/**
 * The forged run: mutated, then re-sealed by the producer's rules. A field the re-seal
 * recomputes (ids, hashes, projections, the report) would simply be restored: it is mutated
 * after the re-seal instead, and only the manifest (and signature) sealed over it.
 */
function forge(t: Trial): RunFiles | null {
  const { kind, mutation } = t;
  const seal = {
    store: kind.fixture.store,
    ...(kind.privateKeyPem === undefined ? {} : { privateKeyPem: kind.privateKeyPem }),
  };
  const entry = fieldEntry(mutation.field.pattern);
  const first = mutated(kind.files, mutation);
  if (first === null) return null;
  const resealed = resealRun(first, seal);
  const restored = [...kind.files].every(([p, b]) => Buffer.from(resealed.get(p) ?? []).equals(b));
  if (entry?.kind !== "hash" || !restored || resealed.size !== kind.files.size) return resealed;
  const late = mutated(kind.files, mutation);
  if (late === null) return null;
  return SEALS.has(mutation.field.path) && mutation.field.path !== "report.json"
    ? late
    : resealManifest(late, seal);
}

describe("the field inventory", () => {
  it.each(KINDS.map((k) => [k.name, k] as const))("names every field of a run: %s", (_, kind) => {
    const missing = [...new Set(runFields(kind.files).map((f) => f.pattern))].filter(
      (p) => fieldEntry(p) === undefined,
    );
    expect(missing).toEqual([]);
  });

  it.each(KINDS.map((k) => [k.name, k] as const))(
    "the re-seal is sound: an untouched %s re-seals to the same bytes and passes",
    (_, kind) => {
      expect(verdict(kind, kind.files).verdict).toBe("pass");
      const resealed = resealRun(kind.files, {
        store: kind.fixture.store,
        ...(kind.privateKeyPem === undefined ? {} : { privateKeyPem: kind.privateKeyPem }),
      });
      expect([...resealed.keys()].sort()).toEqual([...kind.files.keys()].sort());
      for (const [path, bytes] of kind.files)
        expect(Buffer.from(resealed.get(path) as Uint8Array).toString("utf8"), path).toBe(
          Buffer.from(bytes).toString("utf8"),
        );
    },
  );

  it.each(KINDS.map((k) => [k.name, k] as const))(
    `every forged non-label field fails verify (${FULL ? "full matrix" : `one mutation in ${STRIDE}`}): %s`,
    async (_, kind) => {
      const passed: string[] = [];
      let forged = 0;
      for (const t of trials(kind)) {
        // Yield now and then: a long synchronous loop starves vitest's worker RPC.
        if (forged % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        const files = forge(t);
        if (files === null) continue;
        forged += 1;
        if (verdict(t.kind, files).verdict === "pass") {
          const f = t.mutation.field;
          passed.push(
            `${f.pattern} (${f.path}${f.line === null ? "" : `:${f.line}`} ${f.keys.join(".")}) ${t.mutation.what}`,
          );
        }
      }
      expect(forged).toBeGreaterThan(FULL ? 200 : 15);
      expect(passed).toEqual([]);
    },
    600_000,
  );

  it("labels are few, and each says why it cannot be verified", () => {
    const labels = labelFields();
    // Seed, producer (name, version; run.json and the trace header), corpus limits (three, in
    // run.json and the trace), the model's response (status, body), volatile/.
    expect(labels.length).toBeLessThanOrEqual(14);
    expect(labels.length / Object.keys(FIELD_INVENTORY).length).toBeLessThan(0.1);
    for (const [, entry] of labels) expect(entry.how.length).toBeGreaterThan(20);
  });

  it("recorded labels of a run: seed, producer, corpus limits; of an llm run, the model's response", () => {
    const fields = recordedLabels(answeredRun().files).map((l) => l.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "run.json inputs.seed",
        "run.json inputs.producer.name",
        "run.json inputs.producer.version",
        "run.json inputs.runtime.tools.0.config.limits.max_chunks",
      ]),
    );
    const llm = recordedLabels(KINDS.find((k) => k.name.startsWith("llm"))?.files ?? new Map());
    expect(llm.some((l) => / response\.body$/.test(l.field) && l.value.endsWith("characters)"))).toBe(true);
  });
});
