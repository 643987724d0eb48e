/**
 * The HTTP API's request and response schemas, declared once in zod: Fastify validates with
 * them and the OpenAPI document is generated from them. Request specs reuse the ProblemSpec
 * model with tighter caps, so one request cannot make the server index or rank without bound.
 */
import * as z from "zod";
import { CURSOR_PATTERN, ITEM_ID_PATTERN } from "../app/registry.js";
import { PRESETS } from "../app/run/run-spec.js";
import { ID_PATTERN } from "../app/store/artifacts.js";
import { Constraints, ProblemSpec } from "../core/models/spec.js";

export const HTTP_LIMITS = {
  questionChars: 2000,
  topK: 100,
  maxChunkChars: 20_000,
  minChunkChars: 100,
  pageSize: 100,
  defaultPageSize: 20,
  itemNameChars: 200,
} as const;

export const RunId = z
  .string()
  .regex(/^run_v1_[0-9a-f]{64}$/, "not a run id (run_v1_ and 64 lowercase hex digits)")
  .refine((s) => ID_PATTERN.test(s));
export const ItemId = z.string().regex(ITEM_ID_PATTERN, "not an item id (item_ and 32 lowercase hex digits)");
export const Sha256Param = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits");

export const HttpConstraints = Constraints.extend({
  corpus: z
    .string()
    .min(1)
    .max(1024)
    .describe("a path relative to a --corpus-root folder, or sha256:<hex> of a snapshot in the store")
    .optional(),
  top_k: z.int().min(1).max(HTTP_LIMITS.topK).optional(),
  chunk_chars: z.int().min(HTTP_LIMITS.minChunkChars).max(HTTP_LIMITS.maxChunkChars).optional(),
  overlap_chars: z
    .int()
    .min(0)
    .max(HTTP_LIMITS.maxChunkChars - 1)
    .optional(),
  query: z.string().min(1).max(HTTP_LIMITS.questionChars).optional(),
}).omit({ base_url: true });

/** A ProblemSpec as a client may send it: no `id` (the server computes every id), capped sizes. */
export const HttpSpec = ProblemSpec.omit({ id: true }).extend({
  description: z.string().trim().min(1, "the question must not be empty").max(HTTP_LIMITS.questionChars),
  constraints: HttpConstraints,
});

const Preset = z.enum(Object.keys(PRESETS) as [string, ...string[]]);

export const CreateRunBody = z
  .strictObject({
    spec: HttpSpec.optional(),
    item_id: ItemId.optional(),
    item_version: z.int().min(1).optional(),
    preset: Preset.optional(),
    seed: z
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .refine((b) => (b.spec === undefined) !== (b.item_id === undefined), {
    message: "give exactly one of spec and item_id",
  });

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(HTTP_LIMITS.pageSize).default(HTTP_LIMITS.defaultPageSize),
  cursor: z.string().regex(CURSOR_PATTERN, "not a cursor from a previous page").optional(),
});

export const RunParams = z.strictObject({ id: RunId });
export const EvidenceParams = z.strictObject({ id: RunId, sha256: Sha256Param });
export const ItemParams = z.strictObject({ id: ItemId });
export const JobParams = z.strictObject({
  id: z
    .string()
    .regex(/^(run|case)-[0-9a-f]{64}$/, "not a job id (run- or case- and 64 lowercase hex digits)"),
});
/** RFC 7240: `Prefer: respond-async` asks for 202 and a status URL when a queue is configured. */
export const CreateRunHeaders = z.object({ prefer: z.string().max(1024).optional() });

export const VerifyBody = z
  .strictObject({
    policy: z.enum(["strict", "audit", "permissive"]).optional(),
    /** Fail unless the run's signature is verified (CLI: verify --require-signature). */
    require_signature: z.boolean().optional(),
  })
  // A POST with no body arrives as null.
  .nullish();
export const ReplayBody = z.strictObject({ live: z.boolean().optional() }).nullish();

export const ItemBody = z.strictObject({
  name: z.string().trim().min(1).max(HTTP_LIMITS.itemNameChars),
  spec: HttpSpec,
});

const Loose = z.record(z.string(), z.unknown());

export const Verification = z.object({
  verdict: z.enum(["pass", "fail"]),
  summary: Loose,
  failures: z.array(Loose),
});

export const RunEntrySchema = z.object({
  run_id: z.string(),
  registered_at: z.string(),
  item_id: z.string().nullable(),
  item_version: z.int().nullable(),
});

export const CreateRunResponse = z.object({
  run_id: z.string(),
  created: z.boolean().describe("false when an identical run already existed"),
  status: z.string(),
  answer: z.string().nullable(),
  uncertainty: z.string().nullable(),
  claims: z.array(Loose),
  verification: Verification,
});

export const JobAccepted = z.object({
  job_id: z.string(),
  status_url: z.string(),
  state: z.string(),
});
export const JobResponse = z.object({
  job_id: z.string(),
  /** waiting, active, delayed, completed, failed (the dead-letter list), ... */
  state: z.string(),
  attempts: z.number().int(),
  run_id: z.string().nullable(),
  failed_reason: z.string().nullable(),
});
export const RunListResponse = z.object({
  runs: z.array(RunEntrySchema),
  next_cursor: z.string().nullable(),
});

export const RunResponse = z.object({
  run_id: z.string(),
  registered_at: z.string().nullable(),
  item_id: z
    .string()
    .nullable()
    .describe("the item the run was first created from (null: first created ad hoc); see items"),
  item_version: z.int().nullable(),
  items: z
    .array(z.object({ item_id: z.string(), item_version: z.int(), registered_at: z.string() }))
    .describe(
      "every item version that produced this run, oldest first: an item run equal to an earlier run is that run, and is recorded here (registry data, outside the run's fingerprint)",
    ),
  question: z.string().nullable(),
  status: z.string().nullable(),
  answer: z.string().nullable(),
  recorded_verdict: z.enum(["pass", "fail"]).nullable().describe("the verdict in report.json, as recorded"),
  root_digest: z.string().nullable(),
  files: z.array(z.string()),
});

export const VerifyResponse = z.object({
  passed: z.boolean(),
  /** "verified" only for a signature checked against an Ed25519 key; a key not at hand is "not verified". */
  signature: z.enum(["unsigned", "verified", "not verified", "invalid"]),
  report: Loose,
});

export const ReplayResponse = z.object({
  mode: z.enum(["frozen", "live"]),
  identical: z.boolean(),
  recorded_sha256: z.string(),
  replayed_sha256: z.string(),
  divergence: Loose.nullable(),
});

export const ItemResponse = z.object({
  id: z.string(),
  name: z.string(),
  version: z.int(),
  spec: Loose,
  created_at: z.string(),
  updated_at: z.string(),
});
export const ItemListResponse = z.object({
  items: z.array(ItemResponse),
  next_cursor: z.string().nullable(),
});

export const HealthResponse = z.object({
  status: z.literal("ok"),
  version: z.string(),
  retrieval_cache: z
    .object({ size: z.int(), capacity: z.int(), hits: z.int(), misses: z.int() })
    .describe("the in-memory LRU of prepared snapshots and indexes"),
});

const Check = z.object({ ok: z.boolean(), error: z.string().optional() });
export const ReadyResponse = z.object({
  status: z.enum(["ready", "unavailable"]),
  checks: z
    .object({ registry: Check, queue: Check.optional() })
    .describe("each dependency: did it answer within 2 s (queue: only with --queue)"),
});

export const CorpusResponse = z.object({
  corpus: z.string().describe("sha256:<hash> of the snapshot, for spec.constraints.corpus"),
  documents: z.int(),
});

/** RFC 9457 problem details, as every error response carries them (application/problem+json). */
export const ProblemSchema = z
  .object({
    type: z.string().describe("urn:canon-reason:problem:<code>, stable per error code"),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string(),
    field: z.string().optional(),
    file: z.string().optional(),
    line: z.int().optional(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    retry_after: z.int().optional(),
    offset: z.int().optional().describe("E_ENCODING: the byte offset of the first byte that is not UTF-8"),
  })
  .catchall(z.unknown());
