import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/core/errors.js";
import { HTTP_ERROR_CODES } from "../src/http/problem.js";
import { PRODUCER } from "../src/version.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const fromRoot = (p: string) => new URL(`../${p}`, import.meta.url);

describe("package.json", () => {
  it("names the package and its console command canon-reason, for node >= 20", () => {
    expect(pkg.name).toBe("canon-reason");
    expect(Object.keys(pkg.bin)).toEqual(["canon-reason"]);
    expect(pkg.engines.node).toBe(">=20");
    expect(pkg.type).toBe("module");
  });

  it("points bin and every export at files the build produced", () => {
    expect(existsSync(fromRoot(pkg.bin["canon-reason"]))).toBe(true);
    expect(readFileSync(fromRoot(pkg.bin["canon-reason"]), "utf8").startsWith("#!/usr/bin/env node")).toBe(
      true,
    );
    for (const target of Object.values(pkg.exports) as Array<string | Record<string, string>>) {
      for (const file of typeof target === "string" ? [target] : Object.values(target)) {
        expect(existsSync(fromRoot(file)), file).toBe(true);
      }
    }
  });

  it("ships what the CLI needs at run time (the demo corpus for init)", () => {
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "demo", "schemas"]));
  });

  it("records the same producer version in runs as the package version", () => {
    expect(PRODUCER).toEqual({ name: pkg.name, version: pkg.version });
  });
});

describe("error codes", () => {
  it("are unique", () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(new Set([...ERROR_CODES, ...HTTP_ERROR_CODES]).size).toBe(
      ERROR_CODES.length + HTTP_ERROR_CODES.length,
    );
  });

  it("cover every code the source raises, so the documented list is complete", () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts")) {
          for (const m of readFileSync(path, "utf8").matchAll(/"(E_[A-Z_]+)"/g)) used.add(m[1] as string);
        }
      }
    };
    walk(fileURLToPath(fromRoot("src")));
    // The service's own codes (auth, rate limit, media type, ...) have their registry beside it.
    const known: readonly string[] = [...ERROR_CODES, ...HTTP_ERROR_CODES];
    expect([...used].filter((code) => !known.includes(code))).toEqual([]);
  });
});
