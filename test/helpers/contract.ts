/**
 * The OpenAPI contract, checked on every response the HTTP tests receive (issue 21, item 8):
 * `call` hands each reply here, and it is validated against the document the same server
 * serves at /openapi.json, with a JSON Schema 2020-12 validator (Ajv2020). A status the
 * operation does not declare, a media type it does not list, or a JSON body its schema refuses
 * fails the test that received it, so the document and the server cannot drift.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { generateOpenApi } from "../../src/http/openapi.js";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read by shape
type Doc = any;

interface Contract {
  doc: Doc;
  ajv: Ajv2020;
  paths: Array<{ template: string; pattern: RegExp }>;
}

let contract: Promise<Contract> | undefined;
/** Every violation seen in this test process, for the contract test's own assertions. */
export const violations: string[] = [];
/** How many responses were checked against a declared operation. */
export const checked = { count: 0 };

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

export function contractOf(doc: Doc): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(doc, "openapi");
  const paths = Object.keys(doc.paths ?? {}).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }));
  return { doc, ajv, paths };
}

/**
 * The document every server serves at /openapi.json, generated once per test process the way
 * the server generates it (not fetched: a test server may be rate-limited, guarded or dying);
 * test/http/openapi.test.ts pins that the served document is this one, byte for byte.
 */
function served(): Promise<Contract> {
  contract ??= generateOpenApi().then(contractOf);
  return contract;
}

/**
 * What is wrong with this response under the contract; null when nothing is. A path the
 * document does not have is not judged here (the 404 and 405 answers are problems: checked by
 * their media type only).
 */
export function violationOf(
  contract: Contract,
  method: string,
  path: string,
  status: number,
  contentType: string,
  text: string,
): string | null {
  const where = `${method} ${path} -> ${status}`;
  const match = contract.paths.find((p) => p.pattern.test(path));
  const op = match === undefined ? undefined : contract.doc.paths[match.template]?.[method.toLowerCase()];
  if (match === undefined || op === undefined) {
    if (method === "HEAD" || status < 400) return null;
    return /^application\/problem\+json/.test(contentType)
      ? null
      : `${where}: an error that is not problem+json`;
  }
  checked.count++;
  const key = [String(status), `${String(status)[0]}XX`, "default"].find(
    (k) => op.responses?.[k] !== undefined,
  );
  if (key === undefined)
    return `${where}: status not declared (declared: ${Object.keys(op.responses).join(", ")})`;
  const response = op.responses[key];
  if (method === "HEAD" || text === "") {
    return response.content === undefined || status === 204 || method === "HEAD"
      ? null
      : `${where}: empty body, but the document declares content`;
  }
  if (response.content === undefined) return `${where}: a body, but the document declares none`;
  const media = contentType.split(";")[0]?.trim() ?? "";
  if (response.content[media] === undefined)
    return `${where}: media type ${media} not declared (${Object.keys(response.content).join(", ")})`;
  if (!/^application\/([a-z0-9.-]+\+)?json$/.test(media)) return null;
  const ref = `openapi#/${pointer("paths", match.template, method.toLowerCase(), "responses", key, "content", media, "schema")}`;
  const validate = contract.ajv.getSchema(ref) ?? contract.ajv.compile({ $ref: ref });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${where}: declared ${media}, but the body is not JSON`;
  }
  if (validate(value)) return null;
  return `${where}: ${contract.ajv.errorsText(validate.errors)}`;
}

/** Checks one response a test server sent; throws on a violation. */
export async function checkResponse(
  method: string,
  path: string,
  status: number,
  contentType: string,
  text: string,
): Promise<void> {
  const problem = violationOf(
    await served(),
    method.toUpperCase(),
    path.split("?")[0] ?? path,
    status,
    contentType,
    text,
  );
  if (problem === null) return;
  violations.push(problem);
  throw new Error(`OpenAPI contract violated: ${problem}`);
}
