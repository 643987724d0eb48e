/**
 * Canonical JSON (RFC 8785, JCS), sha256 and the one content-id rule of docs/design.md §2:
 *   id = "<kind>_v1_" + hex(sha256(canonical_json(object without its "id" field)))
 * The serializer itself is the `canonicalize` library; this module guards its input,
 * because JCS libraries silently drop `undefined` or print `null` for NaN, which would
 * make two different objects hash alike.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { CanonicalJsonError } from "./errors.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type IdKind = "spec" | "plan" | "node" | "call" | "ev" | "claim" | "trace" | "run" | "report";

/** Throws CanonicalJsonError naming the JSON path of the first value JSON cannot hold. */
function assertPlainJson(value: unknown, path: string): void {
  if (value === null) return;
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number ${value}`, path);
      return;
    case "object": {
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          assertPlainJson(item, `${path}[${i}]`);
        });
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(`not a plain object (${proto?.constructor?.name ?? "unknown"})`, path);
      }
      for (const [key, item] of Object.entries(value)) assertPlainJson(item, `${path}.${key}`);
      return;
    }
    default:
      throw new CanonicalJsonError(`${typeof value} is not JSON`, path);
  }
}

/** RFC 8785 canonical form of a JSON value, as a string. */
export function canonicalJson(value: unknown): string {
  assertPlainJson(value, "$");
  const text = canonicalize(value);
  if (text === undefined) throw new CanonicalJsonError("value has no JSON form", "$");
  return text;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The content id of `object` (its own `id` field, if any, is left out). */
export function contentId(kind: IdKind, object: Record<string, unknown>): string {
  const { id: _ignored, ...rest } = object;
  return `${kind}_v1_${sha256Hex(canonicalJson(rest))}`;
}

/** Returns a copy of `object` with `id` set to its content id, `id` first for readability. */
export function withId<T extends Record<string, unknown>>(kind: IdKind, object: T): T & { id: string } {
  return { id: contentId(kind, object), ...object };
}

export const ID_PATTERN = /^(spec|plan|node|call|ev|claim|trace|run|report)_v1_[0-9a-f]{64}$/;
