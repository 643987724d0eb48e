/**
 * The content-addressed store (DiskStore) against temporary folders, as hostile input: object
 * names that are not sha256 (traversal, upper case) are refused before any path is built; an
 * object that is a FIFO, a folder or a symlink to a device is an integrity error found without
 * blocking or reading; cache refs are followed only when their record is intact and made of
 * exactly the inputs at hand.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../../../src/core/canonical.js";
import { IntegrityError } from "../../../src/core/errors.js";
import { DiskStore, writeFileAtomic } from "../../../src/io/store/content-store.js";
import { thrown } from "../../helpers/canon-error.js";
import { tempDir } from "../../helpers/tmp.js";

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

describe("DiskStore: hostile names and files", () => {
  it.each([
    "../../../etc/passwd",
    `${"a".repeat(62)}/..`,
    "A".repeat(64),
    "a".repeat(63),
    `${"a".repeat(64)}\n`,
    "",
  ])("refuses the object name %j before building a path (exit 2)", (name) => {
    const store = new DiskStore(tempDir());
    for (const use of [() => store.objectPath(name), () => store.get(name), () => store.has(name)])
      expect(thrown(use)).toMatchObject({ code: "E_STORE_MISSING", exitCode: 2 });
    // touch is best effort and ignores it.
    expect(() => store.touch(name)).not.toThrow();
  });

  it("an object that is a FIFO, a folder or a symlink to a device is an integrity error, never read", () => {
    const store = new DiskStore(tempDir());
    const names = ["f", "d", "e"].map((c) => c.repeat(64));
    for (const name of names) mkdirSync(dirname(store.objectPath(name)), { recursive: true });
    execFileSync("mkfifo", [store.objectPath(names[0] as string)]);
    mkdirSync(store.objectPath(names[1] as string));
    symlinkSync("/dev/zero", store.objectPath(names[2] as string));
    const expected = [
      /a FIFO \(named pipe\), not a regular file/,
      /a folder, not a regular file/,
      /a device, not a regular file/,
    ];
    names.forEach((name, i) => {
      expect(() => store.get(name)).toThrow(IntegrityError);
      expect(() => store.get(name)).toThrow(expected[i] as RegExp);
    });
  });

  it("stores empty bytes like any other, and put is idempotent: never a second file, never an overwrite", () => {
    const root = tempDir();
    const store = new DiskStore(root);
    const empty = store.put(new Uint8Array());
    expect(empty).toBe(sha256Hex(""));
    expect(store.get(empty)?.length).toBe(0);
    const hash = store.put(Buffer.from("same"));
    expect(store.put(Buffer.from("same"))).toBe(hash);
    expect(readdirSync(dirname(store.objectPath(hash)))).toEqual([hash.slice(2)]);
    // An object damaged in place is not silently replaced by a put: reading it still fails loudly.
    writeFileSync(store.objectPath(hash), "damaged");
    store.put(Buffer.from("same"));
    expect(() => new DiskStore(root).get(hash)).toThrow(IntegrityError);
  });

  it("marks an object used when it is read or put again (its mtime), which gc's grace period relies on", () => {
    const store = new DiskStore(tempDir());
    const hash = store.put(Buffer.from("used"));
    const old = new Date(Date.now() - 3 * 3600_000);
    utimesSync(store.objectPath(hash), old, old);
    new DiskStore(store.root.replace(/\/store$/, "")).get(hash);
    expect(Date.now() - statSync(store.objectPath(hash)).mtimeMs).toBeLessThan(3600_000);
    utimesSync(store.objectPath(hash), old, old);
    store.put(Buffer.from("used"));
    expect(Date.now() - statSync(store.objectPath(hash)).mtimeMs).toBeLessThan(3600_000);
  });
});

describe("DiskStore: checked refs", () => {
  const OF = { snapshot: "s".repeat(8), params: { k1: 1.2 } };

  it("follows a ref only to an intact record made of exactly these inputs, whose target exists", () => {
    const store = new DiskStore(tempDir());
    const target = store.put(Buffer.from("index"));
    store.writeCheckedRef(`index/${"1".repeat(64)}`, OF, target);
    expect(store.readCheckedRef(`index/${"1".repeat(64)}`, OF)).toBe(target);
    // Other inputs: not followed (a rebuild, never a wrong index).
    expect(store.readCheckedRef(`index/${"1".repeat(64)}`, { ...OF, params: { k1: 0.9 } })).toBeNull();
    // Unknown, malformed or traversing names: nothing.
    for (const name of [`index/${"2".repeat(64)}`, "index/../../etc", `../${"1".repeat(64)}`, "INDEX/x"])
      expect(store.readCheckedRef(name, OF)).toBeNull();
  });

  it("a ref retargeted at another record, at garbage, or whose record or target is gone is not followed", () => {
    const store = new DiskStore(tempDir());
    const a = store.put(Buffer.from("index a"));
    const b = store.put(Buffer.from("index b"));
    const refA = `index/${"a".repeat(64)}`;
    const refB = `index/${"b".repeat(64)}`;
    store.writeCheckedRef(refA, OF, a);
    store.writeCheckedRef(refB, { ...OF, snapshot: "other" }, b);
    const refPath = (name: string) => join(store.root, "refs", name);
    // A's pointer now names B's record: B's record was made of other inputs.
    writeFileSync(refPath(refA), readFileSync(refPath(refB)));
    expect(store.readCheckedRef(refA, OF)).toBeNull();
    // Straight at an object that is not a record; at text that is not a hash.
    writeFileSync(refPath(refA), `${a}\n`);
    expect(store.readCheckedRef(refA, OF)).toBeNull();
    writeFileSync(refPath(refA), "not a hash");
    expect(store.readCheckedRef(refA, OF)).toBeNull();
    // A record naming a target that is gone.
    const record = store.put(Buffer.from(`${canonicalJson({ of: OF, target: "c".repeat(64) })}\n`));
    writeFileSync(refPath(refA), `${record}\n`);
    expect(store.readCheckedRef(refA, OF)).toBeNull();
  });

  it("refuses to write a ref with a bad name or target", () => {
    const store = new DiskStore(tempDir());
    expect(() => store.writeCheckedRef("index/../../x", OF, "a".repeat(64))).toThrow(/invalid ref/);
    expect(() => store.writeCheckedRef(`index/${"a".repeat(64)}`, OF, "../x")).toThrow(/invalid ref/);
  });
});

describe("writeFileAtomic", () => {
  it("replaces a file whole, and leaves no temporary behind when the write fails", () => {
    const dir = tempDir();
    const path = join(dir, "sub", "file.txt");
    writeFileAtomic(path, "one");
    writeFileAtomic(path, "two");
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "sub"))).toEqual(["file.txt"]);
    // The target is a folder: the rename fails, the temporary is removed.
    mkdirSync(join(dir, "taken", "x"), { recursive: true });
    expect(() => writeFileAtomic(join(dir, "taken"), "three")).toThrow();
    expect(readdirSync(dir).sort()).toEqual(["sub", "taken"]);
    expect(existsSync(join(dir, "taken", "x"))).toBe(true);
  });
});
