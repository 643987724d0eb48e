/**
 * Unit tests of citation_bytes (INV-EVD-002): each cited span lies inside its evidence and hashes
 * right. Each finding code from one targeted edit of the fixture run.
 */
import { describe, expect, it } from "vitest";
import type { RunView } from "../../../../src/core/artifact/view.js";
import { citationBytesCheck } from "../../../../src/core/verify/checks/citation-bytes.js";
import { answeredRun, codes, edited, paramsOf, sealing, ZEROS } from "./fixture.js";

const run = answeredRun();
const check = (view: RunView = run.view) => citationBytesCheck.run(view, sealing(run.store));
const proposed = run.view.claims[0];
const support = proposed?.supports.find((s) => s.kind === "evidence");

/** The view with the proposed claim's first evidence support edited. */
const withSupport = (edit: (s: NonNullable<typeof support>) => void) =>
  edited(run.view, (v) => {
    const s = v.claims[0]?.supports.find((x) => x.kind === "evidence");
    if (s) edit(s);
  });

describe("citation_bytes", () => {
  it("passes the untouched run", () => {
    const outcome = check();
    expect(codes(outcome)).toEqual([]);
    expect(outcome.metrics?.spans).toBeGreaterThan(0);
  });

  it("CITATION_UNCHECKABLE: a support without its sha256", () => {
    const outcome = check(
      withSupport((s) => {
        delete s.sha256;
      }),
    );
    expect(codes(outcome)).toEqual(["CITATION_UNCHECKABLE"]);
    expect(paramsOf(outcome, "CITATION_UNCHECKABLE")).toEqual({
      claim: proposed?.id,
      evidence: support?.ref,
    });
  });

  it("CITATION_UNCHECKABLE: every citation of a missing evidence file", () => {
    const ev = run.view.evidence.find((e) => e.id === support?.ref);
    const files = new Map(run.view.files);
    files.delete(ev?.content_path ?? "");
    const outcome = check({ ...run.view, files });
    // The proposed claim and its verdict both cite it.
    expect(codes(outcome)).toEqual(["CITATION_UNCHECKABLE", "CITATION_UNCHECKABLE"]);
  });

  it("SPAN_OUTSIDE: a span past the end of the evidence", () => {
    const outcome = check(
      withSupport((s) => {
        s.span = [0, 100_000];
      }),
    );
    expect(codes(outcome)).toEqual(["SPAN_OUTSIDE"]);
    expect(paramsOf(outcome, "SPAN_OUTSIDE")).toMatchObject({ claim: proposed?.id, span: [0, 100_000] });
  });

  it("SPAN_OUTSIDE: an empty span", () => {
    const outcome = check(
      withSupport((s) => {
        s.span = [3, 3];
      }),
    );
    expect(codes(outcome)).toEqual(["SPAN_OUTSIDE"]);
  });

  it("SPAN_HASH: the cited bytes hash to something else", () => {
    const outcome = check(
      withSupport((s) => {
        s.sha256 = ZEROS;
      }),
    );
    expect(codes(outcome)).toEqual(["SPAN_HASH"]);
    expect(paramsOf(outcome, "SPAN_HASH")).toEqual({
      claim: proposed?.id,
      evidence: support?.ref,
      span: support?.span,
    });
  });
});
