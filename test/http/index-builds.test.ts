/**
 * Issue 21 item 3, the service side: index builds run off the event loop (in worker threads,
 * the same bytes), at most `maxBuilds` at once, and only for the parameter sets the operator
 * allows per corpus (the presets, --index-params, and --index-quota more), refused with 403
 * E_INDEX_PARAMS_REFUSED before anything is built. `canon-reason gc`: test/cli/gc.test.ts.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetrievalCache } from "../../src/app/run/retrieval-cache.js";
import { DEFAULT_LIMITS } from "../../src/io/corpus/corpus-reader.js";
import { snapshotCorpus } from "../../src/io/corpus/corpus-snapshot.js";
import { DiskStore } from "../../src/io/store/content-store.js";
import { SqliteRegistry } from "../../src/registry/sqlite.js";
import { isCleanError, REPO, runCli } from "../helpers/cli.js";
import { call, demoSpec, startServer, type TestServer } from "../helpers/http.js";
import { tempDir, writeFiles } from "../helpers/tmp.js";

/** A corpus large enough that a build takes a visible while, deterministic. */
function corpusLines(docs: number): string {
  const lines: string[] = [];
  for (let d = 0; d < docs; d++) {
    const words = Array.from({ length: 120 }, (_, i) => `w${(i * 31 + d * 7) % 4999} tide${d % 17}`);
    lines.push(JSON.stringify({ doc_id: `d${d}`, text: `${words.join(" ")}. The Moon pulls the sea.` }));
  }
  return `${lines.join("\n")}\n`;
}

const storeObjects = (root: string) =>
  readdirSync(join(root, "store", "sha256")).flatMap((s) => readdirSync(join(root, "store", "sha256", s)));

describe("issue 21 item 3: index builds off the event loop", () => {
  it("item 3: a build in worker threads leaves the event loop free and writes the same bytes", async () => {
    // The worker entry exists in the built package only: use it (npm run build first).
    const dist = (path: string) => join(REPO, "dist", path);
    const { buildIndexInThreads } = await import(dist("io/index-cache/index-build-pool.js"));
    const { serializeIndex } = await import(dist("core/retrieval/bm25/bm25-format.js"));
    const docs = corpusLines(4000)
      .trim()
      .split("\n")
      .map((l) => {
        const d = JSON.parse(l);
        return { docId: d.doc_id, text: d.text };
      });
    const params = {
      k1: 1.2,
      b: 0.75,
      chunkChars: 400,
      overlapChars: 50,
      analyzer: "english",
      titles: false,
    };
    const longestGap = async (build: () => Promise<unknown>) => {
      let last = performance.now();
      let gap = 0;
      const timer = setInterval(() => {
        const t = performance.now();
        gap = Math.max(gap, t - last);
        last = t;
      }, 5);
      const index = await build();
      clearInterval(timer);
      return { gap: Math.max(gap, performance.now() - last), index };
    };
    const inThread = await longestGap(() => buildIndexInThreads(docs, params, 1));
    const offThread = await longestGap(() =>
      buildIndexInThreads(docs, params, 1, undefined, { offThread: true }),
    );
    expect(
      Buffer.from(serializeIndex(offThread.index)).equals(Buffer.from(serializeIndex(inThread.index))),
    ).toBe(true);
    // The in-thread build blocks the loop for (nearly) the whole build; the worker build only
    // for the merge. A loaded machine stretches both alike.
    expect(offThread.gap).toBeLessThan(inThread.gap / 2);
  });

  it("item 3: at most maxBuilds builds run at once; the others wait, then all finish", async () => {
    const root = tempDir("canon-builds-");
    writeFiles(root, { "c.jsonl": corpusLines(300) });
    const store = new DiskStore(root);
    const snapshot = await snapshotCorpus(store, join(root, "c.jsonl"), DEFAULT_LIMITS);
    const cache = new RetrievalCache(8, { maxBuilds: 1 });
    const base = {
      analyzer: "english" as const,
      bm25_k1: 1.2,
      bm25_b: 0.75,
      overlap_chars: 0,
      index_titles: false,
    };
    const pending = [300, 400, 500].map((chunk) =>
      cache.prepare(store, `sha256:${snapshot.hash}`, { ...base, chunk_chars: chunk }, DEFAULT_LIMITS),
    );
    expect(cache.builds()).toEqual({ running: 1, waiting: 2, max: 1 });
    const done = await Promise.all(pending);
    expect(new Set(done.map((w) => w.prepared.indexHash)).size).toBe(3);
    expect(cache.builds()).toEqual({ running: 0, waiting: 0, max: 1 });
  });
});

describe("issue 21 item 3: the operator's index parameter sets per corpus", () => {
  let root: string;
  let corpusRoot: string;
  let server: TestServer;
  const start = (artifactsRoot: string) =>
    startServer({
      artifactsRoot,
      registry: new SqliteRegistry(artifactsRoot),
      corpusRoots: [corpusRoot],
      indexPolicy: { quota: 1, allow: [{ chunk_chars: 500, overlap_chars: 0 }] },
    });
  beforeAll(async () => {
    root = tempDir("canon-quota-");
    corpusRoot = tempDir("canon-quota-roots-");
    writeFiles(corpusRoot, { "c.jsonl": corpusLines(50) });
    server = await start(root);
  });
  afterAll(async () => {
    await server.close();
  });
  const post = (target: TestServer, constraints: Record<string, unknown>) =>
    call(target.url, "POST", "/v1/runs", {
      spec: demoSpec("What pulls the sea?", { corpus: "c.jsonl", ...constraints }),
    });

  it("item 3: presets and the allow-list always build; one more set per corpus (quota 1); the next is 403, building nothing", async () => {
    expect((await post(server, {})).status).toBe(201);
    expect((await post(server, { chunk_chars: 500, overlap_chars: 0 })).status).toBe(201);
    expect((await post(server, { chunk_chars: 300, overlap_chars: 0 })).status).toBe(201);
    // Asked again, the counted set is no new set.
    expect((await post(server, { chunk_chars: 300, overlap_chars: 0 })).status).toBe(200);
    const before = storeObjects(root).sort();
    const refused = await post(server, { chunk_chars: 400, overlap_chars: 0 });
    expect(refused.status).toBe(403);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: "E_INDEX_PARAMS_REFUSED", field: "spec.constraints" });
    expect(refused.json().detail).toMatch(/at most 1 index parameter sets per corpus/);
    expect(storeObjects(root).sort()).toEqual(before);
  });

  it("item 3: the quota holds across a restart (recorded in the store)", async () => {
    await server.close();
    server = await start(root);
    expect((await post(server, { chunk_chars: 300, overlap_chars: 0 })).status).toBe(200);
    expect((await post(server, { chunk_chars: 400, overlap_chars: 0 })).status).toBe(403);
  });
});

describe("issue 21 item 3: the new serve flags refuse hostile values before listening", () => {
  it.each([
    ["--index-params", "bogus"],
    ["--index-params", "nope=1"],
    ["--index-params", "chunk_chars=x"],
    ["--index-params", "index_titles=maybe"],
    ["--index-params", "chunk_chars=1=2"],
    ["--index-quota", "-1"],
    ["--max-uploads", "0"],
    ["--max-index-builds", "abc"],
  ])("item 3: serve %s %s is exit 2 naming the flag", (flag, value) => {
    const r = runCli(["serve", "--port", "0", "--artifacts-dir", tempDir(), flag, value], {
      timeoutMs: 30_000,
    });
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
    expect(r.stderr).toContain(flag);
  });
});
