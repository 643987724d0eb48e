/**
 * Files that ship inside the package (the demo corpus). Found by walking up from this module to
 * the folder whose package.json names canon-reason, because this code runs at different depths:
 * from src/ under the tests, from dist/ as a library, and from the bundle in dist/bin/.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function isOurPackage(dir: string): boolean {
  const file = join(dir, "package.json");
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "canon-reason";
  } catch {
    return false;
  }
}

/** The absolute path of `relative` inside the installed package. */
export function packageFile(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!isOurPackage(dir)) {
    const up = dirname(dir);
    // Unreachable in an installed package; a broken install is an internal error.
    if (up === dir) throw new Error("canon-reason: cannot find the package's own package.json");
    dir = up;
  }
  return join(dir, relative);
}
