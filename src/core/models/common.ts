/** Building blocks shared by every model schema. */
import * as z from "zod";

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits");
export const idOf = (kind: string) =>
  z.string().regex(new RegExp(`^${kind}_v1_[0-9a-f]{64}$`), `expected a ${kind}_v1_<sha256> id`);

/** A half-open UTF-8 byte range [start, end). */
export const ByteSpan = z
  .tuple([z.int().min(0), z.int().min(0)])
  .refine(([start, end]) => start <= end, "span start must not exceed its end");
export type ByteSpan = z.infer<typeof ByteSpan>;

export const JsonObject = z.record(z.string(), z.json());

export const Producer = z.strictObject({ name: z.string(), version: z.string() });
export type Producer = z.infer<typeof Producer>;
