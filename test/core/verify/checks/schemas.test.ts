/**
 * Unit tests of schemas (INV-SCH-001): every read problem the adapter reports, and run.json's schema
 * versions. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import { RUN_FILES } from "../../../../src/core/artifact/files.js";
import { toRunView } from "../../../../src/core/artifact/view.js";
import { schemasCheck } from "../../../../src/core/verify/checks/schemas.js";
import { answeredRun, codes, edited, paramsOf, sealing, withFiles } from "./fixture.js";

const run = answeredRun();
/** The schemas check over files as the verifier runs it: the adapter's problems, then its own. */
const check = (files: ReadonlyMap<string, Uint8Array>) => {
  const { view, problems } = toRunView(files);
  return schemasCheck.run(view, { ...sealing(run.store), readProblems: problems });
};
const text = (path: string) => Buffer.from(run.files.get(path) as Uint8Array).toString("utf8");

describe("schemas", () => {
  it("passes the untouched run", () => {
    expect(codes(check(run.files))).toEqual([]);
  });

  it("FILE_MISSING: a required file is absent", () => {
    const outcome = check(withFiles(run.files, { [RUN_FILES.plan]: null }));
    expect(codes(outcome)).toEqual(["FILE_MISSING"]);
    expect(paramsOf(outcome, "FILE_MISSING")).toEqual({ path: "plan.json" });
  });

  it("NOT_UTF8: bytes that are not UTF-8", () => {
    const outcome = check(withFiles(run.files, { [RUN_FILES.spec]: new Uint8Array([0xff, 0xfe]) }));
    expect(codes(outcome)).toEqual(["NOT_UTF8"]);
    expect(paramsOf(outcome, "NOT_UTF8")).toEqual({ path: "spec.json" });
  });

  it("INVALID_JSON: a file that is not JSON", () => {
    const outcome = check(withFiles(run.files, { [RUN_FILES.answer]: "{\n" }));
    expect(codes(outcome)).toEqual(["INVALID_JSON"]);
    expect(paramsOf(outcome, "INVALID_JSON")).toEqual({ path: "answer.json" });
  });

  it("TRACE_UNTERMINATED: the trace lacks its final newline", () => {
    const outcome = check(withFiles(run.files, { [RUN_FILES.trace]: text(RUN_FILES.trace).trimEnd() }));
    expect(codes(outcome)).toEqual(["TRACE_UNTERMINATED"]);
  });

  it("SCHEMA_VIOLATION: a field the schema does not know", () => {
    const spec = JSON.parse(text(RUN_FILES.spec));
    const outcome = check(
      withFiles(run.files, { [RUN_FILES.spec]: `${JSON.stringify({ ...spec, zzz: 1 })}\n` }),
    );
    expect(codes(outcome)).toEqual(["SCHEMA_VIOLATION"]);
    expect(paramsOf(outcome, "SCHEMA_VIOLATION")).toMatchObject({ path: "spec.json" });
  });

  it("UNSUPPORTED_VERSION: an artifact at another schema version", () => {
    const outcome = check(
      withFiles(run.files, {
        [RUN_FILES.plan]: text(RUN_FILES.plan).replace('"version":"1"', '"version":"2"'),
      }),
    );
    expect(codes(outcome)).toEqual(["UNSUPPORTED_VERSION"]);
    expect(paramsOf(outcome, "UNSUPPORTED_VERSION")).toMatchObject({
      path: "plan.json",
      field: "version",
      found: '"2"',
      supported: "1",
    });
  });

  it("NOT_CANONICAL: valid JSON that is not canonical", () => {
    const outcome = check(withFiles(run.files, { [RUN_FILES.spec]: ` ${text(RUN_FILES.spec)}` }));
    expect(codes(outcome)).toEqual(["NOT_CANONICAL"]);
    expect(paramsOf(outcome, "NOT_CANONICAL")).toEqual({ path: "spec.json" });
  });

  it("NOT_CANONICAL: a trace line that is not canonical names its line", () => {
    const [head, ...rest] = text(RUN_FILES.trace).split("\n");
    const outcome = check(withFiles(run.files, { [RUN_FILES.trace]: [`${head} `, ...rest].join("\n") }));
    expect(codes(outcome)).toEqual(["NOT_CANONICAL"]);
    expect(paramsOf(outcome, "NOT_CANONICAL")).toEqual({ path: "trace.jsonl", line: 1 });
  });

  it("SCHEMA_VERSIONS: run.json records component versions this verifier does not read", () => {
    const { view, problems } = toRunView(run.files);
    const changed = edited(view, (v) => {
      if (v.run) v.run.inputs.schema_versions = { ...v.run.inputs.schema_versions, trace: "9" };
    });
    const outcome = schemasCheck.run(changed, { ...sealing(run.store), readProblems: problems });
    expect(codes(outcome)).toEqual(["SCHEMA_VERSIONS"]);
    expect(paramsOf(outcome, "SCHEMA_VERSIONS")).toEqual({
      component: "trace",
      recorded: "9",
      supported: "1",
    });
  });
});
