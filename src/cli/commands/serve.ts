/** `canon-reason serve`: the HTTP service (docs/design.md §8). Fastify and SQLite load only when it runs. */
import type { Command } from "commander";
import { action, artifactsRoot, parseIntOption, withRegistry } from "../shared.js";

interface ServeOptions {
  host: string;
  port: number;
  artifactsDir?: string;
  corpusRoot: string[];
  rateLimit: number;
  bodyLimit: number;
  uploadLimit: number;
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
      '\nThe llm reasoner\'s key comes from CANON_REASON_LLM_API_KEY or OPENAI_API_KEY.\nSet CANON_REASON_TOKEN to require `Authorization: Bearer <token>` on every /v1 route and on GET /metrics (Prometheus text).\nLogs are JSON lines on stdout, with trace_id/span_id when an OpenTelemetry SDK is registered (node --import ./otel.mjs; README "Scaling out").',
    )
    .action(
      action(async (o: ServeOptions) => {
        const { startService } = await import("../../http/start.js");
        const { registryUrlOf } = await import("../../registry/open.js");
        const token = process.env.CANON_REASON_TOKEN;
        await startService({
          host: o.host,
          port: o.port,
          artifactsRoot: artifactsRoot(o.artifactsDir),
          corpusRoots: o.corpusRoot,
          token: token === undefined || token === "" ? undefined : token,
          rateLimit: { max: o.rateLimit, windowMs: 60_000 },
          bodyLimit: o.bodyLimit,
          uploadLimit: o.uploadLimit,
          modelBaseUrl: o.modelBaseUrl,
          registryUrl: registryUrlOf(o.registry),
          queueUrl: o.queue,
        });
        return 0;
      }),
    );
}
