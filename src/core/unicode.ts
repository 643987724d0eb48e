/**
 * Well-formed text, the one encoding rule for every input (docs/design.md §9): bytes must be UTF-8,
 * strings must be valid Unicode. A lone surrogate (a JSON escape such as "\ud800") has no
 * UTF-8 form, so it could never be hashed, cited by byte span or written back: refuse it.
 */
import { type ErrorLocation, InputError } from "./errors.js";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

export function loneSurrogateError(where: ErrorLocation): InputError {
  return new InputError(
    "E_ENCODING",
    "holds a lone surrogate (e.g. \\ud800), which has no UTF-8 form",
    where,
  );
}

/**
 * The dotted path (e.g. "constraints.query") of the first string in a parsed JSON value that
 * holds a lone surrogate, in a key or a value; "" for the value itself; undefined when none.
 */
export function findLoneSurrogate(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return hasLoneSurrogate(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findLoneSurrogate(item, path === "" ? String(i) : `${path}.${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const at = path === "" ? key : `${path}.${key}`;
      if (hasLoneSurrogate(key)) return at;
      const found = findLoneSurrogate(item, at);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Offset of the first byte that is not part of well-formed UTF-8 (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or -1 when every byte is.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
