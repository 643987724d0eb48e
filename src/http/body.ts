/**
 * The one place a request body becomes a value (issue 21, items 1–2). Every JSON body of every
 * route passes through `parseJsonBody`: a charset other than UTF-8 is 415, bytes that are not
 * UTF-8 are 400 naming the first bad byte's offset (never silently replaced with U+FFFD), and
 * after parsing, every string anywhere in the value, object keys included, must be well-formed
 * Unicode: a lone surrogate (`"\ud800"`, legal JSON) is 400 `E_ENCODING` naming the field, so no
 * handler, canonicalizer or registry ever sees one. Routes do not repeat these checks.
 */
import { isUtf8 } from "node:buffer";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "./problem.js";

/** The `charset` parameter of a Content-Type header, lower-cased and unquoted; undefined when absent. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType);
  return match?.[2]?.toLowerCase();
}

/** Refuses a body declared in any charset but UTF-8 (415): JSON is UTF-8 (RFC 8259 §8.1). */
export function requireUtf8Charset(request: FastifyRequest): void {
  const charset = charsetOf(request.headers["content-type"]);
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8")
    throw new HttpError(415, "E_HTTP_MEDIA_TYPE", `charset ${charset} is not accepted: send UTF-8`);
}

/** Byte offset of the first byte that does not start or continue a valid UTF-8 sequence; -1 when all are valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates encoded as bytes (CESU/WTF-8) and code points past U+10FFFF.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** A field path as the problem names it: `spec.expected.relevant["key"]`-style dotted segments. */
const joinPath = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;

/**
 * Throws 400 `E_ENCODING` for the first string (value or key) holding a lone surrogate, and 400
 * for a `__proto__` key (prototype poisoning, as Fastify's default parser refuses it).
 */
export function checkStrings(value: unknown, path = "body"): void {
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value))
      throw new HttpError(400, "E_ENCODING", `${path}: a lone UTF-16 surrogate is not text`, { field: path });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      checkStrings(v, joinPath(path, i));
    });
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key))
        throw new HttpError(400, "E_ENCODING", `${path}: a key holds a lone UTF-16 surrogate`, {
          field: path,
        });
      if (key === "__proto__")
        throw new HttpError(400, "E_HTTP_BAD_REQUEST", `${path}: a __proto__ key is not accepted`, {
          field: path,
        });
      checkStrings(v, joinPath(path, key));
    }
  }
}

/** Refuses bytes that are not UTF-8 with the offset of the first bad one. */
export function requireUtf8Bytes(bytes: Uint8Array): void {
  const offset = firstInvalidUtf8(bytes);
  if (offset >= 0)
    throw new HttpError(400, "E_ENCODING", `the body is not UTF-8: invalid byte at offset ${offset}`, {
      offset,
    });
}

/** A JSON body, checked at every layer above; the value every route's schema then validates. */
export function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  requireUtf8Charset(request);
  requireUtf8Bytes(body);
  let text = body.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "")
    throw new HttpError(400, "E_HTTP_BAD_REQUEST", "the body is empty: send a JSON value or no content-type");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "E_HTTP_BAD_REQUEST", `the body is not JSON (${(error as Error).message})`);
  }
  checkStrings(value);
  return value;
}

/** Replaces Fastify's JSON parser with `parseJsonBody` (every route: the parser is the app's). */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser(["application/json"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    try {
      done(null, parseJsonBody(request, body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
