/** Builds and reads small tar archives in tests, including hostile ones the CLI must refuse. */
import { gunzipSync } from "node:zlib";
import { Header } from "tar";

export interface TarEntry {
  path: string;
  bytes?: Uint8Array;
  type?: "File" | "SymbolicLink" | "Link" | "CharacterDevice" | "Directory";
  linkpath?: string;
  /** A size to claim in the header instead of the real one (the data is then zeros). */
  claimedSize?: number;
}

/** An uncompressed tar (gzip it yourself), ending with the two zero blocks unless `end` is false. */
export function tarOf(entries: TarEntry[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const bytes = Buffer.from(e.bytes ?? new Uint8Array());
    const size = e.claimedSize ?? bytes.length;
    const header = new Header({
      path: e.path,
      type: e.type ?? "File",
      size: e.type === undefined || e.type === "File" ? size : 0,
      mode: 0o644,
      mtime: new Date(0),
      ...(e.linkpath === undefined ? {} : { linkpath: e.linkpath }),
    });
    header.encode();
    parts.push(header.block as Buffer);
    if (e.claimedSize === undefined) parts.push(bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The entries of a gzipped ustar archive, in order (enough for the bundles we write). */
export function readTarGz(gz: Buffer): Array<{ path: string; bytes: Buffer }> {
  const raw = gunzipSync(gz);
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (let at = 0; at + 512 <= raw.length; ) {
    const block = raw.subarray(at, at + 512);
    if (block.every((b) => b === 0)) break;
    const field = (from: number, to: number) =>
      block.subarray(from, to).toString("latin1").replace(/\0.*$/s, "");
    const prefix = field(345, 500);
    const path = prefix === "" ? field(0, 100) : `${prefix}/${field(0, 100)}`;
    const size = Number.parseInt(field(124, 136).trim(), 8);
    out.push({ path, bytes: Buffer.from(raw.subarray(at + 512, at + 512 + size)) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
