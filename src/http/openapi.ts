/**
 * The OpenAPI document as the server generates it from its zod schemas, without listening or
 * touching a real artifacts root: for `npm run openapi` (docs/openapi.json) and its drift test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteRegistry } from "../app/embedded-registry.js";
import { buildServer } from "./server.js";

export async function generateOpenApi(): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), "canon-openapi-"));
  const registry = new SqliteRegistry(root);
  try {
    const app = await buildServer({ artifactsRoot: root, corpusRoots: [], registry });
    const document = app.swagger() as unknown as Record<string, unknown>;
    await app.close();
    return document;
  } finally {
    await registry.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The pinned file's exact text: two-space JSON and a final newline. */
export const openApiText = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;
