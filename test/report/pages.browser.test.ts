/**
 * The report pages in a real browser: headless Chromium from Debian's `chromium` package,
 * driven by playwright-core. Each page is opened from file:// with every request outside
 * file: and data: refused and recorded, and every console error, page error and dialog
 * recorded: a page must load with none of them. Without /usr/bin/chromium these tests are
 * skipped (and say so), unless CANON_REASON_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffReport, evalReport, runReport } from "../../src/app/report-pages.js";
import { readEvalBaseline, readEvalResults } from "../../src/io/eval/eval-output.js";
import { REPO } from "../helpers/cli.js";
import { makeReportRuns, type ReportRuns } from "../helpers/report-runs.js";
import { tempDir } from "../helpers/tmp.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
const required = process.env.CANON_REASON_REQUIRE_BROWSER === "1";
/** Screenshots of each page kind, kept as test artifacts (gitignored). */
const ARTIFACTS = join(REPO, "test-artifacts");

it.runIf(required && !available)(
  "CANON_REASON_REQUIRE_BROWSER=1 but Chromium is missing: install it (apt-get install chromium)",
  () => {
    expect.fail(`${CHROMIUM} not found`);
  },
);

interface Observed {
  requests: string[];
  errors: string[];
  dialogs: string[];
}

describe.skipIf(!available)(
  `report pages in headless Chromium (${available ? CHROMIUM : `skipped: ${CHROMIUM} is not installed`})`,
  () => {
    let browser: Browser;
    let page: Page;
    let runs: ReportRuns;
    let out: string;
    const seen: Observed = { requests: [], errors: [], dialogs: [] };

    /** Writes a page under `out` and opens it; returns what it did while loading. */
    async function open(path: string): Promise<Observed> {
      seen.requests = [];
      seen.errors = [];
      seen.dialogs = [];
      await page.goto(pathToFileURL(path).href, { waitUntil: "load" });
      return { ...seen };
    }

    const clean = (o: Observed) => expect(o).toEqual({ requests: [], errors: [], dialogs: [] });

    function write(name: string, html: string): string {
      const path = join(out, name);
      writeFileSync(path, html);
      return path;
    }

    beforeAll(async () => {
      runs = await makeReportRuns();
      out = tempDir("canon-report-pages-");
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      // Nothing but the page itself may load: any other request is refused and recorded.
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
        seen.requests.push(url);
        return route.abort();
      });
      page = await context.newPage();
      page.setDefaultTimeout(5000);
      page.on("request", (r) => {
        const url = r.url();
        if (!url.startsWith("file:") && !url.startsWith("data:") && !seen.requests.includes(url))
          seen.requests.push(url);
      });
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") seen.errors.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => seen.errors.push(`pageerror: ${e.message}`));
      page.on("dialog", (d) => {
        seen.dialogs.push(d.message());
        void d.dismiss();
      });
    });

    afterAll(async () => {
      await browser?.close();
    });

    /** Every <mark> against the bytes of the evidence file it names, decoded as UTF-8. */
    async function checkHighlights(runDir: string): Promise<string[]> {
      const marks = await page.$$eval("mark", (els) =>
        els.map((m) => ({
          text: m.textContent ?? "",
          chunk: m.parentElement?.textContent ?? "",
          path: m.getAttribute("data-path") ?? "",
          start: Number(m.getAttribute("data-start")),
          end: Number(m.getAttribute("data-end")),
        })),
      );
      expect(marks.length).toBeGreaterThan(0);
      for (const m of marks) {
        const bytes = readFileSync(join(runDir, m.path));
        expect(m.text).toBe(bytes.subarray(m.start, m.end).toString("utf8"));
        expect(m.chunk).toBe(bytes.toString("utf8"));
      }
      return marks.map((m) => m.text);
    }

    it("a run page loads with no request and no console error; highlights are the cited bytes (é, emoji, CJK)", async () => {
      const path = write("multibyte.html", runReport(runs.runDir("multibyte"), runs.root).html);
      clean(await open(path));
      const cited = await checkHighlights(runs.runDir("multibyte"));
      expect(cited.join("")).toMatch(/東京 🍰/);
      expect(await page.locator("#verification .badge").first().textContent()).toBe("PASS");
      // The timeline shows each step's duration from volatile/timings.json.
      expect(await page.locator("#trace meter").count()).toBe(5);
      await page.screenshot({ path: join(ARTIFACTS, "report-run.png") });
    });

    it("keeps the CR bytes of a CRLF document in the highlighted chunk", async () => {
      clean(await open(write("crlf.html", runReport(runs.runDir("crlf"), runs.root).html)));
      const cited = await checkHighlights(runs.runDir("crlf"));
      expect(cited.join("")).toContain("crowned");
      const path = await page.locator("mark").first().getAttribute("data-path");
      expect(readFileSync(join(runs.runDir("crlf"), path ?? "")).includes(0x0d)).toBe(true);
    });

    it("renders a corpus's <script> and onerror payloads as text: nothing runs", async () => {
      const path = write("hostile.html", runReport(runs.runDir("hostile"), runs.root).html);
      clean(await open(path));
      expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.locator("script").count()).toBe(1);
      expect(await page.locator("#final-answer").textContent()).toContain(
        "<script>window.__pwned='body';alert(1)</script>",
      );
      await checkHighlights(runs.runDir("hostile"));
    });

    it("opens a run with a failed check on that check", async () => {
      const path = write("tampered.html", runReport(runs.runDir("tampered"), runs.tamperedRoot).html);
      clean(await open(path));
      expect(await page.title()).toMatch(/^FAILED /);
      expect(await page.locator("main > section").first().getAttribute("id")).toBe("verification");
      const alert = page.locator("#verification-failed");
      const box = await alert.boundingBox();
      expect(box).not.toBeNull();
      expect((box?.y ?? 1e9) + (box?.height ?? 0)).toBeLessThan(900);
      expect(await alert.textContent()).toMatch(/evidence_files/);
      // Failed checks are listed before passing ones.
      const first = page.locator("#verification tbody tr").first();
      expect(await first.getAttribute("data-passed")).toBe("0");
      expect(await page.locator(".citation .fail").first().textContent()).toContain("does NOT match");
      await page.screenshot({ path: join(ARTIFACTS, "report-run-failed.png") });
    });

    it("opens a diff on the first changed layer, with both rankings side by side", async () => {
      const html = diffReport(
        { runDir: runs.runDir("topK3"), storeRoot: runs.root },
        { runDir: runs.runDir("multibyte"), storeRoot: runs.root },
      ).html;
      clean(await open(write("diff.html", html)));
      const first = page.locator("main > section").first();
      expect(await first.getAttribute("id")).toBe("first-changed");
      expect(await first.locator("h2").textContent()).toBe("First changed layer: index");
      expect(await page.locator("#rankings .cols > div").count()).toBe(2);
      await page.screenshot({ path: join(ARTIFACTS, "report-diff.png") });
    });

    it("filters and sorts the eval table, and its links open each case's run page", async () => {
      const folder = tempDir("canon-report-eval-");
      const baseline = readEvalBaseline(runs.baselineDir);
      evalReport(readEvalResults(runs.evalDir), {
        artifactsRoot: runs.root,
        baseline,
        tolerance: 0.01,
        write: (rel, p) => {
          mkdirSync(join(folder, "runs"), { recursive: true });
          writeFileSync(join(folder, rel), p.html);
        },
      });
      clean(await open(join(folder, "index.html")));
      const visible = () =>
        page.$$eval("#cases tbody tr", (rows) =>
          rows
            .filter((r) => !(r as unknown as { hidden: boolean }).hidden)
            .map((r) => r.getAttribute("data-case")),
        );
      expect(await visible()).toEqual(["cafe", "<b>juggler</b>", "trick", "fifa"]);
      await page.selectOption("#filter", "insufficient");
      expect(await visible()).toEqual(["fifa"]);
      expect(await page.locator("#shown").textContent()).toBe("1");
      await page.selectOption("#filter", "regressed");
      expect(await visible()).toEqual(["trick"]);
      await page.selectOption("#filter", "low-ndcg");
      await page.fill("#ndcg-threshold", "0.9");
      expect(await visible()).toEqual(["trick"]);
      await page.selectOption("#filter", "failed");
      expect(await visible()).toEqual([]);
      await page.selectOption("#filter", "all");
      await page.fill("#search", "jug");
      expect(await visible()).toEqual(["<b>juggler</b>"]);
      await page.fill("#search", "");
      await page.click('button[data-sort="ndcg_at_10"]');
      expect(await visible()).toEqual(["trick", "cafe", "<b>juggler</b>", "fifa"]);
      await page.click('button[data-sort="case"]');
      await page.click('button[data-sort="case"]');
      expect(await visible()).toEqual(["trick", "fifa", "cafe", "<b>juggler</b>"]);
      expect(await page.locator('#metrics tr[data-metric="ndcg_at_10"] .fail').textContent()).toBe(
        "REGRESSION",
      );
      await page.screenshot({ path: join(ARTIFACTS, "report-eval.png") });

      // Each case links to its run's page, written next to the eval page.
      const row = page.locator('#cases tbody tr[data-case="<b>juggler</b>"]');
      seen.requests = [];
      seen.errors = [];
      await Promise.all([page.waitForEvent("load"), row.locator("a").click()]);
      expect(page.url()).toBe(pathToFileURL(join(folder, "runs", `${runs.ids.hostile}.html`)).href);
      expect(await page.locator("header .id").textContent()).toBe(runs.ids.hostile);
      expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
      clean({ ...seen });
    });
  },
);
