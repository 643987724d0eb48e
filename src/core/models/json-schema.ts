/** JSON Schema documents generated from the same zod schemas the code validates with. */
import * as z from "zod";
import { MODEL_SCHEMAS } from "./index.js";

export type ModelName = keyof typeof MODEL_SCHEMAS;

export function modelJsonSchemas(): Record<ModelName, Record<string, unknown>> {
  const out = {} as Record<ModelName, Record<string, unknown>>;
  for (const [name, schema] of Object.entries(MODEL_SCHEMAS) as Array<[ModelName, z.ZodType]>) {
    out[name] = {
      $id: `https://canon-reason.dev/schemas/v1/${name}.json`,
      title: name,
      ...z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any" }),
    };
  }
  return out;
}
