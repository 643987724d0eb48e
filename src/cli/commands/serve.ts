/** `canon-reason serve`: the HTTP service (docs/design.md §8). Fastify and SQLite load only when it runs. */
import type { Command } from "commander";
import { exitWithParent } from "../parent-watch.js";
import { action, artifactsRoot, parseIntOption, withRegistry } from "../shared.js";

interface ServeOptions {
  host: string;
  port: number;
  artifactsDir?: string;
  corpusRoot: string[];
  rateLimit: number;
  bodyLimit: number;
  uploadLimit: number;
  maxUploads: number;
  maxIndexBuilds: number;
  indexQuota: number;
  indexParams: string[];
  registry?: string;
  queue?: string;
  modelBaseUrl?: string;
}

export function registerServe(program: Command): void {
  withRegistry(
    program
      .command("serve")
      .description("serve runs over HTTP: create, list, read, verify and replay runs; saved specs (items)")
      .option("--host <host>", "address to bind", "127.0.0.1")
      .option("--port <n>", "port (0: any free port)", parseIntOption("--port", { min: 0, max: 65535 }), 8787)
      .option("--artifacts-dir <dir>", "artifacts root (runs, store, registry.sqlite)", ".canon-reason")
      .option(
        "--corpus-root <dir>",
        "a folder requests may name corpora under (repeatable); without one, only sha256: snapshots",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option(
        "--rate-limit <n>",
        "requests per minute per token (or address)",
        parseIntOption("--rate-limit", { min: 1 }),
        600,
      )
      .option(
        "--body-limit <bytes>",
        "largest request body read",
        parseIntOption("--body-limit", { min: 1024 }),
        262144,
      )
      .option(
        "--upload-limit <bytes>",
        "largest corpus upload read (POST /v1/corpora)",
        parseIntOption("--upload-limit", { min: 1024 }),
        64 * 1024 * 1024,
      )
      .option(
        "--max-uploads <n>",
        "corpus uploads received at once (streamed to <artifacts>/uploads); one more is 503 with Retry-After",
        parseIntOption("--max-uploads", { min: 1 }),
        2,
      )
      .option(
        "--max-index-builds <n>",
        "index builds at once, each in worker threads off the event loop; more wait their turn",
        parseIntOption("--max-index-builds", { min: 1 }),
        1,
      )
      .option(
        "--index-quota <n>",
        "index parameter sets built per corpus beyond the presets and --index-params (0: none); one more is 403 E_INDEX_PARAMS_REFUSED",
        parseIntOption("--index-quota", { min: 0 }),
        4,
      )
      .option(
        "--index-params <k=v,...>",
        "an index parameter set always built, e.g. chunk_chars=800,overlap_chars=100 (repeatable; keys left out match any value)",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option(
        "--model-base-url <url>",
        "the endpoint (OpenAI-style base URL ending in /v1) of runs with reasoner llm; requests cannot name one (queued llm runs need workers started with the same --model-base-url)",
      )
      .option(
        "--queue <url>",
        "a Redis queue, redis://HOST:PORT[/DB]: `Prefer: respond-async` runs go to workers (needs --registry)",
      ),
  )
    .addHelpText(
      "after",
      '\nThe llm reasoner\'s key comes from CANON_REASON_LLM_API_KEY or OPENAI_API_KEY.\nSet CANON_REASON_TOKEN to require `Authorization: Bearer <token>` on every /v1 route and on GET /metrics (Prometheus text);\nwithout one on a --host beyond loopback, serve warns loudly at start (stderr and log).\nGET /health is liveness (the process answers); GET /ready is readiness (registry and queue answer): point a load balancer at /ready.\nStore objects no run, ref or item needs: `canon-reason gc --dry-run`, then `canon-reason gc`.\nLogs are JSON lines on stdout, with trace_id/span_id when an OpenTelemetry SDK is registered (node --import ./otel.mjs; README "Scaling out").\nSIGTERM or SIGINT closes the server. Supervise the installed bin (node_modules/.bin/canon-reason serve), not npx:\na SIGTERM to npx does not reach the server, which then stops when it sees npx gone (CANON_REASON_EXIT_WITH_PARENT=0|1).',
    )
    .action(
      action(async (o: ServeOptions) => {
        // Started through npx: stop when npx does (a SIGTERM to npx does not reach us).
        exitWithParent();
        const { startService } = await import("../../http/start.js");
        const { registryUrlOf } = await import("../../app/registry.js");
        const token = process.env.CANON_REASON_TOKEN;
        const { parseIndexParams } = await import("../../app/store/index-policy.js");
        await startService({
          host: o.host,
          port: o.port,
          artifactsRoot: artifactsRoot(o.artifactsDir),
          corpusRoots: o.corpusRoot,
          token: token === undefined || token === "" ? undefined : token,
          rateLimit: { max: o.rateLimit, windowMs: 60_000 },
          bodyLimit: o.bodyLimit,
          uploadLimit: o.uploadLimit,
          maxUploads: o.maxUploads,
          maxIndexBuilds: o.maxIndexBuilds,
          indexQuota: o.indexQuota,
          indexParams: o.indexParams.map((text) => parseIndexParams(text)),
          modelBaseUrl: o.modelBaseUrl,
          registryUrl: registryUrlOf(o.registry),
          queueUrl: o.queue,
        });
        return 0;
      }),
    );
}
