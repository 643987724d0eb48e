// Writes docs/openapi.json from the server's own zod schemas (run `npm run build` first).
import { writeFileSync } from "node:fs";
import { generateOpenApi, openApiText } from "../dist/http/openapi.js";

const document = await generateOpenApi();
writeFileSync(new URL("../docs/openapi.json", import.meta.url), openApiText(document));
console.log(`wrote docs/openapi.json (${Object.keys(document.paths ?? {}).length} paths)`);
