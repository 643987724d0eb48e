import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/core/canonical.js";
import { IntegrityError } from "../../src/core/errors.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { tempDir } from "../helpers/tmp.js";

describe("DiskStore", () => {
  it("re-hashes what it reads: an object changed on disk is refused", () => {
    const store = new DiskStore(tempDir());
    const hash = store.put(Buffer.from("snapshot bytes\n"));
    expect(hash).toBe(sha256Hex("snapshot bytes\n"));
    writeFileSync(store.objectPath(hash), "changed\n");
    expect(() => store.get(hash)).toThrow(IntegrityError);
  });

  it("hands back bytes it was told to keep as it hashed and wrote them, without reading them again", () => {
    const root = tempDir();
    const store = new DiskStore(root);
    const bytes = Buffer.from("index bytes\n");
    const hash = store.put(bytes, true);
    expect(readFileSync(store.objectPath(hash), "utf8")).toBe("index bytes\n");
    expect(store.get(hash)).toBe(bytes);
    // Another process (another store) reads the object from disk and hashes it.
    const fresh = new DiskStore(root).get(hash);
    expect(fresh).not.toBe(bytes);
    expect(Buffer.from(fresh as Uint8Array).equals(bytes)).toBe(true);
    // Not kept: the first get reads the file.
    const other = Buffer.from("record\n");
    const otherHash = store.put(other);
    expect(store.get(otherHash)).not.toBe(other);
  });
});
