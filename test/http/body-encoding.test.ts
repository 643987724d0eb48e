/**
 * Issue 21, items 1–2, as a class: for EVERY operation of the served OpenAPI document that
 * takes a JSON body, and EVERY place its request schema holds a string (a property value, an
 * array element, a record key), a body carrying a lone surrogate there is 400 E_ENCODING naming
 * the field, bytes that are not UTF-8 there are 400 naming the byte offset, and a charset other
 * than UTF-8 is 415. Nothing is created, and no such request is ever a 5xx. The listed cases
 * (description, constraints.query, expected.answer_contains[], keys of expected.relevant, PUT
 * /v1/items) are named tests below.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkStrings, firstInvalidUtf8 } from "../../src/http/body.js";
import { call, demoSpec, type Reply, startServer, type TestServer } from "../helpers/http.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is walked by shape
type Schema = any;
/** A place a string can be: a path of property names and "[]" (array element), ending in a value or a key. */
interface StringSlot {
  path: Array<string | "[]">;
  kind: "value" | "key";
}

let server: TestServer;
let doc: Schema;
const RUN = `run_v1_${"0".repeat(64)}`;
const ITEM = `item_${"0".repeat(32)}`;

beforeAll(async () => {
  server = await startServer();
  doc = (await call(server.url, "GET", "/openapi.json")).json();
});
afterAll(async () => {
  await server.close();
});

function deref(schema: Schema): Schema {
  if (typeof schema?.$ref === "string" && schema.$ref.startsWith("#/")) {
    let node: Schema = doc;
    for (const part of schema.$ref.slice(2).split("/"))
      node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    return deref(node);
  }
  return schema;
}

const isString = (s: Schema) =>
  s?.type === "string" ||
  (Array.isArray(s?.type) && s.type.includes("string")) ||
  (Array.isArray(s?.enum) && s.enum.some((v: unknown) => typeof v === "string")) ||
  typeof s?.const === "string";

/** Every string slot of a schema (bounded depth: specs do not nest deeply). */
function stringSlots(raw: Schema, path: Array<string | "[]"> = [], depth = 0): StringSlot[] {
  const schema = deref(raw);
  if (schema === undefined || schema === null || depth > 8) return [];
  const out: StringSlot[] = [];
  if (isString(schema)) out.push({ path, kind: "value" });
  for (const key of ["anyOf", "oneOf", "allOf"])
    for (const branch of schema[key] ?? []) out.push(...stringSlots(branch, path, depth + 1));
  for (const [name, prop] of Object.entries(schema.properties ?? {}))
    out.push(...stringSlots(prop, [...path, name], depth + 1));
  if (schema.items !== undefined) out.push(...stringSlots(schema.items, [...path, "[]"], depth + 1));
  const extra = schema.additionalProperties;
  if (extra !== undefined && extra !== false) {
    // A record: its keys are strings too, and its values are walked under a sample key.
    out.push({ path: [...path, "k"], kind: "key" });
    if (extra !== true) out.push(...stringSlots(extra, [...path, "k"], depth + 1));
  }
  const seen = new Set<string>();
  return out.filter((slot) => {
    const key = `${slot.kind}:${slot.path.join(".")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const LONE = "\ud800";
const MARK = "@@HERE@@";

/** A JSON body text with `placed` at the slot (as a value, or as a record key), everything else minimal. */
function bodyWith(slot: StringSlot, placed: string): string {
  const build = (path: Array<string | "[]">): unknown => {
    if (path.length === 0) return MARK;
    const [head, ...rest] = path;
    if (head === "[]") return [build(rest)];
    if (rest.length === 0 && slot.kind === "key") return { [MARK]: 1 };
    return { [head as string]: build(rest) };
  };
  const path = slot.kind === "key" ? slot.path.slice(0, -1).concat(["k"]) : slot.path;
  return JSON.stringify(build(path)).replace(JSON.stringify(MARK), placed);
}

const fieldOf = (slot: StringSlot) =>
  ["body", ...(slot.kind === "key" ? slot.path.slice(0, -1) : slot.path)]
    .map((p) => (p === "[]" ? "[0]" : p))
    .join(".")
    .replace(/\.\[/g, "[");

const concrete = (template: string) => template.replace("{id}", template.includes("items") ? ITEM : RUN);

interface Operation {
  method: string;
  path: string;
  schema: Schema;
}

function jsonOperations(): Operation[] {
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(doc.paths as Record<string, Record<string, Schema>>))
    for (const [method, op] of Object.entries(methods)) {
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      if (schema !== undefined) ops.push({ method: method.toUpperCase(), path: concrete(template), schema });
    }
  return ops;
}

const expectProblem = (r: Reply, status: number, code: string) => {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.json().code, r.text).toBe(code);
};

describe("issue 21 items 1–2: every string of every JSON body, at the body-parsing boundary", () => {
  it("the generator covers every JSON route and the fields the issue lists", () => {
    const ops = jsonOperations();
    expect(ops.map((o) => `${o.method} ${o.path.replace(RUN, "{id}").replace(ITEM, "{id}")}`).sort()).toEqual(
      [
        "POST /v1/items",
        "POST /v1/runs",
        "POST /v1/runs/{id}/replay",
        "POST /v1/runs/{id}/verify",
        "PUT /v1/items/{id}",
      ],
    );
    const runs = stringSlots((ops.find((o) => o.path === "/v1/runs") as Operation).schema).map(
      (s) => `${s.kind}:${s.path.join(".")}`,
    );
    for (const listed of [
      "value:spec.description",
      "value:spec.constraints.query",
      "value:spec.expected.answer_contains.[]",
      "key:spec.expected.relevant.k",
    ])
      expect(runs, listed).toContain(listed);
  });

  it("a lone surrogate anywhere is 400 E_ENCODING naming the field; invalid UTF-8 there names the byte offset", async () => {
    let cases = 0;
    for (const op of jsonOperations()) {
      for (const slot of stringSlots(op.schema)) {
        const lone = await call(server.url, op.method, op.path, bodyWith(slot, JSON.stringify(LONE)));
        expectProblem(lone, 400, "E_ENCODING");
        expect(lone.json().field, `${op.method} ${op.path} ${slot.path.join(".")}`).toBe(fieldOf(slot));
        // 0xff is never UTF-8: the offset is where it sits in the body's bytes.
        const text = bodyWith(slot, '"a\u0000"');
        const bytes = Buffer.from(text, "utf8");
        const at = bytes.indexOf(0);
        bytes[at] = 0xff;
        const bad = await call(server.url, op.method, op.path, bytes);
        expectProblem(bad, 400, "E_ENCODING");
        expect(bad.json().offset).toBe(at);
        expect(bad.json().detail).toContain(`offset ${at}`);
        cases++;
      }
    }
    // Every operation's every slot: 5 operations, the two run/item specs holding most of them.
    expect(cases).toBeGreaterThan(25);
  });

  it("a charset other than UTF-8 is 415 on every JSON route; utf-8 in any spelling is accepted", async () => {
    for (const op of jsonOperations()) {
      for (const charset of ["utf-16", "ISO-8859-1", '"utf-16le"', "latin1"]) {
        const r = await call(server.url, op.method, op.path, "{}", {
          "content-type": `application/json; charset=${charset}`,
        });
        expectProblem(r, 415, "E_HTTP_MEDIA_TYPE");
      }
    }
    const ok = await call(server.url, "POST", "/v1/runs", JSON.stringify({ spec: demoSpec() }), {
      "content-type": 'application/json; charset="UTF-8"',
    });
    expect(ok.status).toBeLessThan(300);
  });

  it("item 1: the listed spec strings of POST /v1/runs are 400 E_ENCODING, not 500", async () => {
    const listed: Array<[string, Record<string, unknown>]> = [
      ["body.spec.description", { ...demoSpec(LONE) }],
      ["body.spec.constraints.query", demoSpec("Why?", { query: `tides ${LONE}` })],
      ["body.spec.expected.answer_contains[0]", { ...demoSpec(), expected: { answer_contains: [LONE] } }],
      ["body.spec.expected.relevant", { ...demoSpec(), expected: { relevant: { [`d${LONE}`]: 1 } } }],
    ];
    const before = (await call(server.url, "GET", "/v1/runs")).json().runs;
    for (const [field, spec] of listed) {
      const r = await call(server.url, "POST", "/v1/runs", { spec });
      expectProblem(r, 400, "E_ENCODING");
      expect(r.json().field).toBe(field);
    }
    expect((await call(server.url, "GET", "/v1/runs")).json().runs).toEqual(before);
  });

  it("item 1: PUT /v1/items refuses them too (nothing stored as U+FFFD), so running the item cannot 500", async () => {
    const created = await call(server.url, "POST", "/v1/items", { name: "tides", spec: demoSpec() });
    expect(created.status).toBe(201);
    const id = created.json().id;
    const put = await call(server.url, "PUT", `/v1/items/${id}`, {
      name: "tides",
      spec: demoSpec(`Why ${LONE}?`),
    });
    expectProblem(put, 400, "E_ENCODING");
    expect((await call(server.url, "GET", `/v1/items/${id}`)).json().version).toBe(1);
    const named = await call(server.url, "POST", "/v1/items", { name: LONE, spec: demoSpec() });
    expectProblem(named, 400, "E_ENCODING");
  });

  it("item 2: invalid UTF-8 inside a string is 400 naming the offset, never a run made of U+FFFD", async () => {
    const text = JSON.stringify({ spec: demoSpec("What causes XX tides?") });
    const bytes = Buffer.from(text, "utf8");
    const at = bytes.indexOf("XX");
    bytes[at] = 0xc3; // a lead byte followed by an ASCII byte: not UTF-8
    const r = await call(server.url, "POST", "/v1/runs", bytes);
    expectProblem(r, 400, "E_ENCODING");
    expect(r.json().offset).toBe(at);
    // Overlong forms and UTF-8-encoded surrogates are not UTF-8 either.
    expect(firstInvalidUtf8(Buffer.from([0x41, 0xc0, 0xaf]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0x41, 0x42, 0xed, 0xa0, 0x80]))).toBe(2);
    expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0);
    expect(firstInvalidUtf8(Buffer.from("é😀 ok", "utf8"))).toBe(-1);
    // A well-formed pair is text; only a lone half is refused.
    expect(() => checkStrings({ a: ["😀"] })).not.toThrow();
    expect(() => checkStrings({ a: ["\udc00x"] })).toThrow(/body\.a\[0\]/);
  });

  it("item 2: application/json; charset=utf-16 is 415, even with bytes that would parse", async () => {
    const r = await call(server.url, "POST", "/v1/runs", JSON.stringify({ spec: demoSpec() }), {
      "content-type": "application/json; charset=utf-16",
    });
    expectProblem(r, 415, "E_HTTP_MEDIA_TYPE");
  });
});
