/** run.json, answer.json and manifest.json (docs/design.md §4). */
import * as z from "zod";
import { ByteSpan, idOf, JsonObject, Producer, Sha256Hex } from "./common.js";

export const RUN_VERSION = "1";
export const MANIFEST_VERSION = "1";

export const ToolDescriptor = z.strictObject({
  name: z.string(),
  version: z.string(),
  config: JsonObject,
  /** sha256 of the canonical JSON of `config`. */
  fingerprint: Sha256Hex,
});
export type ToolDescriptor = z.infer<typeof ToolDescriptor>;

export const Runtime = z.strictObject({
  tools: z.array(ToolDescriptor),
  reasoner: z.strictObject({ id: z.string(), version: z.string() }),
});
export type Runtime = z.infer<typeof Runtime>;

/** Everything the run id is computed from: run_id = "run_v1_" + sha256(JCS(inputs)). */
export const RunInputs = z.strictObject({
  spec_id: idOf("spec"),
  plan_id: idOf("plan"),
  preset: z.string(),
  seed: z.int(),
  runtime: Runtime,
  producer: Producer,
  schema_versions: z.record(z.string(), z.string()),
});
export type RunInputs = z.infer<typeof RunInputs>;

export const RunRecord = z.strictObject({
  version: z.literal(RUN_VERSION),
  run_id: idOf("run"),
  inputs: RunInputs,
  trace_id: idOf("trace"),
});
export type RunRecord = z.infer<typeof RunRecord>;

export const AnswerCitation = z.strictObject({
  evidence_id: idOf("ev"),
  doc_id: z.string(),
  uri: z.string(),
  /** Byte range of the quote inside the document text. */
  doc_span: ByteSpan,
  sha256: Sha256Hex,
  quote: z.string(),
});

export const AnswerView = z.strictObject({
  run_id: idOf("run"),
  question: z.string(),
  status: z.enum(["answered", "insufficient_evidence"]),
  answer: z.string().nullable(),
  uncertainty: z.string().nullable(),
  claims: z.array(
    z.strictObject({
      id: idOf("claim"),
      statement: z.string(),
      status: z.string(),
      confidence: z.number(),
      citations: z.array(AnswerCitation),
      /** The model's quotes and claims that were dropped, with why (llm reasoner only). */
      rejected: z.array(z.string()).optional(),
    }),
  ),
});
export type AnswerView = z.infer<typeof AnswerView>;

export const Manifest = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  run_id: idOf("run"),
  algorithm: z.literal("sha256"),
  /** Relative path -> sha256 of the file bytes, for every file outside volatile/. */
  files: z.record(z.string(), Sha256Hex),
  /** sha256 over the canonical JSON of `files`. */
  root_digest: Sha256Hex,
});
export type Manifest = z.infer<typeof Manifest>;

export const Signature = z.strictObject({
  algorithm: z.literal("ed25519"),
  root_digest: Sha256Hex,
  public_key_sha256: Sha256Hex,
  /** The signing key, base64 of its SPKI DER (absent in signatures made before 0.2). */
  public_key: z
    .string()
    .regex(/^[A-Za-z0-9+/]+=*$/)
    .max(1024)
    .optional(),
  signature: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
});
export type Signature = z.infer<typeof Signature>;
