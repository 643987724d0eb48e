/**
 * Wires the report pages to the disk: reads runs through the one run reader, verifies them now
 * (a page never takes a stored report's word), and hands typed data to the pure renderers.
 * Shared by `report` and the service's GET /v1/runs/{id}/report.
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { ID_PATTERN } from "../core/canonical.js";
import { CanonError } from "../core/errors.js";
import type { EvalResults } from "../core/eval/results.js";
import { renderDiffPage } from "../core/report/diff-page.js";
import { type EvalBaseline, renderEvalPage } from "../core/report/eval-page.js";
import type { RenderedPage } from "../core/report/html.js";
import { renderRunPage } from "../core/report/run-page.js";
import type { Progress } from "../io/index-cache/index-cache.js";
import { type OpenedRun, openRun, readRunTimings } from "../io/runs/run-reader.js";
import { runsRoot } from "../io/runs/run-writer.js";
import { readRunDiff } from "./verify/diff.js";
import { verifyOpenedRun } from "./verify/verify.js";

/** The page of a run already opened; its checks are run now, under the audit policy. */
export function runPageOf(run: OpenedRun, storeRoot: string): RenderedPage {
  const verification = verifyOpenedRun(run, { policy: "audit", storeRoot });
  return renderRunPage({ view: run.view, verification, timings: readRunTimings(run.runDir) });
}

export function runReport(runDir: string, storeRoot: string): RenderedPage {
  return runPageOf(openRun(runDir), storeRoot);
}

export function diffReport(
  a: { runDir: string; storeRoot: string },
  b: { runDir: string; storeRoot: string },
): RenderedPage {
  return renderDiffPage(readRunDiff(a, b));
}

export interface EvalReportOptions {
  /** The artifacts root whose runs/ holds the cases' runs. */
  artifactsRoot: string;
  baseline: { summary: EvalBaseline["summary"]; cases: EvalResults["cases"] | null } | null;
  tolerance: number;
  /** Writes one page, by its path relative to the output folder. */
  write: (relative: string, page: RenderedPage) => void;
  progress?: Progress | undefined;
}

/** A symlink in place of a run is not a run (as for the service). */
function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A case's run page, or null when its directory cannot be read at all (the case shows "run not found"). */
function readablePage(dir: string, artifactsRoot: string): RenderedPage | null {
  try {
    return runReport(dir, artifactsRoot);
  } catch (error) {
    if (error instanceof CanonError) return null;
    throw error;
  }
}

/**
 * The eval page (index.html) and one page per case's run (runs/<run_id>.html), each written as
 * soon as it is made so 1,000 cases never sit in memory. Returns how many run pages were made.
 */
export function evalReport(
  results: EvalResults,
  options: EvalReportOptions,
): { runs: number; missing: number } {
  const links = new Map<string, string>();
  // A failed case (its model call was rejected) has no run to link.
  const ids = [...new Set(results.cases.flatMap((c) => (c.run_id === null ? [] : [c.run_id])))];
  options.progress?.start("runs", ids.length);
  let missing = 0;
  for (const [i, id] of ids.entries()) {
    // The id matched the run id pattern when cases.jsonl was parsed: it names nothing outside runs/.
    const dir = join(runsRoot(options.artifactsRoot), id);
    const page =
      ID_PATTERN.test(id) && isRealDirectory(dir) ? readablePage(dir, options.artifactsRoot) : null;
    if (page === null) missing += 1;
    else {
      options.write(`runs/${id}.html`, page);
      links.set(id, `runs/${id}.html`);
    }
    options.progress?.update(i + 1);
  }
  options.progress?.stop();
  const baseline =
    options.baseline === null
      ? null
      : {
          summary: options.baseline.summary,
          cases:
            options.baseline.cases === null
              ? null
              : new Map(options.baseline.cases.map((c) => [c.case_id, c])),
          tolerance: options.tolerance,
        };
  options.write("index.html", renderEvalPage({ ...results, baseline, runLinks: links }));
  return { runs: links.size, missing };
}
