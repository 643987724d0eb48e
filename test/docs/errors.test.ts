/**
 * The error catalogue (issue 24 item 4): docs/errors.md is generated from the code's registries
 * and has an entry for every CLI error code, HTTP problem code and verifier finding code.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_HELP } from "../../src/core/error-help.js";
import { ERROR_CODES } from "../../src/core/errors.js";
import { CHECK_HELP } from "../../src/core/verify/finding-help.js";
import { FINDING_CODES } from "../../src/core/verify/messages.js";
import { CHECKS } from "../../src/core/verify/verifier.js";
import { findingChecks, renderErrorCatalogue } from "../../src/http/error-catalogue.js";
import { HTTP_ERROR_CODES } from "../../src/http/problem.js";
import { PROBLEM_HELP } from "../../src/http/problem-help.js";

const SRC = fileURLToPath(new URL("../../src", import.meta.url));
const catalogue = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const rowOf = (id: string) =>
  catalogue.split("\n").find((l) => l.startsWith(`| <a id="${id.toLowerCase()}"></a>`));

describe("docs/errors.md", () => {
  it("is what `npm run docs:errors` writes from the code (not stale)", () => {
    expect(catalogue).toBe(renderErrorCatalogue(findingChecks(SRC)));
  });

  it("has a row with a meaning and a remedy for every CLI error code", () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_HELP[code]?.meaning, code).toBeTruthy();
      expect(ERROR_HELP[code]?.action, code).toBeTruthy();
      expect(ERROR_HELP[code]?.exit.length, code).toBeGreaterThan(0);
      expect(rowOf(code), code).toContain(`\`${code}\``);
    }
    expect(Object.keys(ERROR_HELP).sort()).toEqual([...ERROR_CODES].sort());
  });

  it("has a row with its status for every HTTP problem code", () => {
    for (const code of HTTP_ERROR_CODES) {
      expect(PROBLEM_HELP[code]?.status.length, code).toBeGreaterThan(0);
      expect(rowOf(code), code).toContain(`\`${code}\``);
    }
    expect(Object.keys(PROBLEM_HELP).sort()).toEqual([...HTTP_ERROR_CODES].sort());
  });

  it("has a row naming its check and a remedy for every verifier finding code", () => {
    const checks = findingChecks(SRC);
    for (const code of FINDING_CODES) {
      const row = rowOf(`finding-${code}`);
      expect(row, code).toContain(`\`${code}\``);
      // The last cell (what to do) is never empty.
      expect(row?.trimEnd().endsWith("|  |"), code).toBe(false);
      expect(checks[code].length, code).toBeGreaterThan(0);
    }
  });

  it("has a remedy for every check the verifier runs", () => {
    for (const check of CHECKS) expect(CHECK_HELP[check.name], check.name).toBeTruthy();
  });
});
