// Test preload (node --import): counts the process's file-system writes, renames and mkdirs
// and SIGKILLs itself at the CRASH_AT-th one, to enumerate crash points (CONTRIBUTING.md "Crash consistency by enumeration").
// With CRASH_COUNT_FILE set instead, it writes the total count there at exit.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const crashAt = Number(process.env.CRASH_AT ?? "0");
const countFile = process.env.CRASH_COUNT_FILE;
const { writeFileSync } = fs;
let count = 0;
for (const name of ["writeFileSync", "renameSync", "mkdirSync", "rmSync"]) {
  const original = fs[name];
  fs[name] = function counted(...args) {
    count++;
    if (count === crashAt) process.kill(process.pid, "SIGKILL");
    return original.apply(this, args);
  };
}
syncBuiltinESMExports();
if (countFile !== undefined) process.on("exit", () => writeFileSync(countFile, String(count)));
