// Test preload (node --import): a disk fault under one folder, as the kernel reports it, for a
// worker's artifacts dir without root or a mount. While the file FS_FAULT_SWITCH exists, writes
// under FS_FAULT_UNDER fail with FS_FAULT_CODE:
//   EROFS, EACCES: creating, opening for writing, renaming, a write-access check (a read-only
//                  or unwritable folder; an existing folder still "exists", as mkdir -p finds it)
//   ENOSPC, EDQUOT: writing bytes (files still open and rename; the data does not fit)
// Reads are untouched. The switch lets a test turn the fault on after the worker has started.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { resolve } from "node:path";

const under = process.env.FS_FAULT_UNDER === undefined ? undefined : resolve(process.env.FS_FAULT_UNDER);
const code = process.env.FS_FAULT_CODE ?? "EROFS";
const switchFile = process.env.FS_FAULT_SWITCH;
const WORDS = {
  EROFS: "read-only file system",
  EACCES: "permission denied",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
};
const { existsSync } = fs;
const noSpace = code === "ENOSPC" || code === "EDQUOT";
/** File descriptors opened for writing under the folder (ENOSPC fails their writes). */
const fds = new Set();

const on = () => switchFile !== undefined && existsSync(switchFile);
const inside = (path) =>
  under !== undefined &&
  (typeof path === "string" || path instanceof URL) &&
  (resolve(String(path)) === under || resolve(String(path)).startsWith(`${under}/`));
const fault = (syscall, path) => {
  const error = new Error(`${code}: ${WORDS[code] ?? code}, ${syscall} '${path}'`);
  Object.assign(error, { code, errno: -1, syscall, path: String(path) });
  return error;
};
const writing = (flags) => typeof flags === "string" && /[wax+]/.test(flags);

const patch = (name, wrap) => {
  const original = fs[name];
  fs[name] = wrap(original);
};
patch(
  "openSync",
  (original) =>
    function openSync(path, flags, ...rest) {
      const writes = writing(flags) || (typeof flags === "number" && (flags & 3) !== 0);
      if (writes && inside(path) && on() && !noSpace) throw fault("open", path);
      const fd = original.call(this, path, flags, ...rest);
      if (writes && inside(path)) fds.add(fd);
      return fd;
    },
);
patch(
  "closeSync",
  (original) =>
    function closeSync(fd) {
      fds.delete(fd);
      return original.call(this, fd);
    },
);
patch(
  "writeSync",
  (original) =>
    function writeSync(fd, ...rest) {
      if (fds.has(fd) && on() && noSpace) throw fault("write", `fd ${fd}`);
      return original.call(this, fd, ...rest);
    },
);
patch(
  "writeFileSync",
  (original) =>
    function writeFileSync(path, ...rest) {
      if (inside(path) && on()) throw fault(noSpace ? "write" : "open", path);
      return original.call(this, path, ...rest);
    },
);
patch(
  "mkdirSync",
  (original) =>
    function mkdirSync(path, ...rest) {
      if (inside(path) && on() && !noSpace && !existsSync(path)) throw fault("mkdir", path);
      return original.call(this, path, ...rest);
    },
);
patch(
  "renameSync",
  (original) =>
    function renameSync(from, to) {
      if ((inside(from) || inside(to)) && on() && !noSpace) throw fault("rename", to);
      return original.call(this, from, to);
    },
);
patch(
  "accessSync",
  (original) =>
    function accessSync(path, mode) {
      if (inside(path) && on() && !noSpace && mode !== undefined && (mode & fs.constants.W_OK) !== 0)
        throw fault("access", path);
      return original.call(this, path, mode);
    },
);
syncBuiltinESMExports();
