#!/usr/bin/env node
// Writes docs/errors.md from the code's registries (see src/http/error-catalogue.ts); run after
// `npm run build`. With --check it writes nothing and exits 1 when docs/errors.md is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { findingChecks, renderErrorCatalogue } from "../dist/http/error-catalogue.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const target = `${root}docs/errors.md`;
const text = renderErrorCatalogue(findingChecks(`${root}src`));
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {}
  if (current !== text) {
    process.stderr.write("docs/errors.md is stale: run `npm run docs:errors`\n");
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
