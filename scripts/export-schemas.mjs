// Writes schemas/<Model>.json from the compiled zod schemas (run `npm run build` first).
import { mkdirSync, writeFileSync } from "node:fs";
import { modelJsonSchemas } from "../dist/core/models/json-schema.js";

const dir = new URL("../schemas/", import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(modelJsonSchemas())) {
  writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(modelJsonSchemas()).length} schemas to schemas/`);
