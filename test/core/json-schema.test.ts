import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelJsonSchemas } from "../../src/core/models/json-schema.js";

const dir = new URL("../../schemas/", import.meta.url);

describe("exported JSON Schema files", () => {
  const generated = modelJsonSchemas();

  it("exist for every model and match the schemas the code validates with", () => {
    for (const [name, schema] of Object.entries(generated)) {
      const onDisk = JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8"));
      // On drift: run `npm run schemas` and commit the result, explaining the change.
      expect(onDisk, `schemas/${name}.json drifted`).toEqual(schema);
    }
  });

  it("contain no stale files", () => {
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.sort()).toEqual(
      Object.keys(generated)
        .map((n) => `${n}.json`)
        .sort(),
    );
  });
});
