/** Claim (docs/design.md §2): a statement and the exact bytes that support it. */
import * as z from "zod";
import { ByteSpan, JsonObject, Sha256Hex } from "./common.js";

export const CLAIM_STATUSES = ["proposed", "validated", "rejected"] as const;

export const Support = z.strictObject({
  kind: z.enum(["evidence", "claim", "tool_call"]),
  ref: z.string().min(1),
  /** For evidence supports: a byte range inside the evidence bytes, and their sha256. */
  span: ByteSpan.optional(),
  sha256: Sha256Hex.optional(),
});
export type Support = z.infer<typeof Support>;

export const Claim = z.strictObject({
  id: z.string().regex(/^claim_v1_[0-9a-f]{64}$/),
  statement: z.string().min(1),
  status: z.enum(CLAIM_STATUSES),
  confidence: z.number().min(0).max(1),
  claim_type: z.enum(["derived", "observed", "assumed"]),
  supports: z.array(Support),
  structured: JsonObject,
});
export type Claim = z.infer<typeof Claim>;
