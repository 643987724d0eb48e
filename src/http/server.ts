/**
 * The HTTP service (docs/design.md §8) as a Fastify app factory: pure wiring, no listen. Routes are
 * small plugins, one per resource; zod schemas validate every request and generate the
 * OpenAPI 3.1 document; one error handler turns every error into problem+json; guards run
 * before any handler.
 */
import { mkdirSync, realpathSync } from "node:fs";
import fastifySwagger from "@fastify/swagger";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import * as z from "zod";
import { RunMetrics } from "../app/ops/prometheus-metrics.js";
import { RetrievalCache } from "../app/run/retrieval-cache.js";
import { sweepUploadDebris, uploadsRoot } from "../app/store/corpus.js";
import { IndexPolicy, type IndexPolicyOptions } from "../app/store/index-policy.js";
import { PRODUCER } from "../version.js";
import { installJsonBodyParser } from "./body.js";
import type { ServiceContext } from "./context.js";
import { installGuards } from "./guards.js";
import { clientErrorResponse, frameworkProblem, installProblemHandler, type PathRoot } from "./problem.js";
import { endRequestSpan, installRequestSpans } from "./request-telemetry.js";
import { corpusRoutes } from "./routes/corpora.js";
import { healthRoutes } from "./routes/health.js";
import { itemRoutes } from "./routes/items.js";
import { metricsRoutes } from "./routes/metrics.js";
import { runRoutes } from "./routes/runs.js";
import { ProblemSchema } from "./schemas.js";

export interface ServerOptions extends Omit<ServiceContext, "retrieval" | "queue"> {
  queue?: ServiceContext["queue"];
  /** How many prepared snapshots and indexes stay in memory (LRU). */
  retrievalCacheSize?: number;
  /** Bearer token every /v1 route and /metrics require (CANON_REASON_TOKEN); none: no authentication. */
  token?: string | undefined;
  /** Requests per window per token (or per address without one). */
  rateLimit?: { max: number; windowMs: number };
  /** Bytes of request body read at most, chunked or not. */
  bodyLimit?: number;
  /** Bytes of a corpus upload (POST /v1/corpora) read at most. */
  uploadLimit?: number;
  /** Corpus uploads received at once; one more is 503 with Retry-After. */
  maxUploads?: number;
  /** Index builds at once (each in worker threads); more wait their turn. */
  maxIndexBuilds?: number;
  /** Index parameter sets built per corpus: the operator's allow-list and quota (see IndexPolicy). */
  indexPolicy?: IndexPolicyOptions;
  logger?: FastifyServerOptions["logger"];
}

export const DEFAULT_RETRIEVAL_CACHE = 8;
export const DEFAULT_MAX_INDEX_BUILDS = 1;
export const DEFAULT_UPLOAD_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_BODY_LIMIT = 256 * 1024;
export const DEFAULT_RATE_LIMIT = { max: 600, windowMs: 60_000 };
const PUBLIC_PATHS = new Set(["/health", "/ready", "/openapi.json"]);

type Operation = {
  responses?: Record<string, unknown>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
};
type OpenApiDocument = {
  components?: { schemas?: Record<string, unknown> };
  paths?: Record<string, Record<string, Operation>>;
};

/** Routes that answer bytes, not a zod-described value: their 200 media types, declared here. */
const RAW_RESPONSES: Record<string, [string, string]> = {
  "get /v1/runs/{id}/trace": ["application/x-ndjson", "trace.jsonl, byte for byte"],
  "get /v1/runs/{id}/manifest": ["application/json", "manifest.json, byte for byte"],
  "get /v1/runs/{id}/answer": ["application/json", "answer.json, byte for byte"],
  "get /v1/runs/{id}/report": ["text/html", "the run's HTML page"],
  "get /v1/runs/{id}/evidence/{sha256}": ["text/plain", "the evidence bytes"],
  "get /metrics": ["text/plain", "Prometheus text format 0.0.4"],
};
/** Bodies a route takes but does not require (a POST with no body is the defaults). */
const OPTIONAL_BODIES = new Set(["post /v1/runs/{id}/verify", "post /v1/runs/{id}/replay"]);

/** What the zod-generated operation cannot say by itself (issue 21, item 8). */
function completeOperation(key: string, op: Operation): Operation {
  const raw = RAW_RESPONSES[key];
  let out = op;
  if (raw !== undefined)
    out = {
      ...out,
      responses: {
        ...out.responses,
        200: {
          description: raw[1],
          content: {
            [raw[0]]: { schema: raw[0] === "application/json" ? { type: "object" } : { type: "string" } },
          },
        },
      },
    };
  if (OPTIONAL_BODIES.has(key) && out.requestBody !== undefined)
    out = { ...out, requestBody: { ...out.requestBody, required: false } };
  if (key === "post /v1/corpora" && out.requestBody?.content !== undefined)
    out = {
      ...out,
      requestBody: {
        ...out.requestBody,
        content: Object.fromEntries(
          Object.entries(out.requestBody.content).map(([type, media]) => [
            type,
            { ...media, schema: { ...(media.schema as object), type: "string" } },
          ]),
        ),
      },
    };
  return out;
}

function withProblems<T extends OpenApiDocument>(document: T): T {
  const problem = {
    description: "an error, as RFC 9457 problem details",
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  };
  const schemas = {
    ...document.components?.schemas,
    Problem: z.toJSONSchema(ProblemSchema, { target: "draft-2020-12" }),
  };
  const paths = Object.fromEntries(
    Object.entries(document.paths ?? {}).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, op]) => [
          method,
          {
            ...completeOperation(`${method} ${path}`, op),
            responses: {
              ...completeOperation(`${method} ${path}`, op).responses,
              "4XX": problem,
              "5XX": problem,
            },
          },
        ]),
      ),
    ]),
  );
  return { ...document, components: { ...document.components, schemas }, paths };
}

const realPathOr = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // One log line per request is written by the onResponse hook below, not two by Fastify.
    logController: new LogController({ disableRequestLogging: true }),
    // Enforced by the body parser on the bytes it actually reads, so a chunked body with no
    // Content-Length is cut off at the same limit.
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Strict ids leave nothing a client could traverse with; long URLs are refused early.
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    frameworkErrors: (error, _request, reply) => {
      const body = frameworkProblem(error);
      // Typed for no route (none matched yet): a plain reply.
      const plain = reply as unknown as FastifyReply;
      void plain.code(body.status).type("application/problem+json").send(JSON.stringify(body));
    },
    forceCloseConnections: "idle",
    // Malformed framing, oversized headers, a request that timed out: problem+json as well.
    clientErrorHandler: (error, socket) => clientErrorResponse(error as NodeJS.ErrnoException, socket),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON bodies only: every other media type gets 415.
  app.removeContentTypeParser(["text/plain"]);
  installJsonBodyParser(app);
  // The folders whose absolute paths a problem never shows (item 9): corpus roots (also as
  // their real paths, which resolveCorpus hands on), upload staging, the artifacts root.
  const pathRoots: PathRoot[] = [
    ...options.corpusRoots.flatMap((root) => [root, realPathOr(root)].map((abs) => ({ abs, shown: "" }))),
    { abs: uploadsRoot(options.artifactsRoot), shown: "upload" },
    { abs: options.artifactsRoot, shown: "artifacts" },
    { abs: realPathOr(options.artifactsRoot), shown: "artifacts" },
  ];
  installProblemHandler(app, { pathRoots: () => pathRoots });
  const metrics = new RunMetrics(
    options.queue === undefined
      ? undefined
      : (states) => (options.queue as NonNullable<typeof options.queue>).jobs.queue.getJobCounts(...states),
  );
  // Before the guards: a refused request has its span and its trace ids in the log too.
  installRequestSpans(app, { metrics, runRoutes: new Set(["POST /v1/runs"]) });
  installGuards(app, {
    token: options.token,
    rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
    publicPaths: PUBLIC_PATHS,
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        ...endRequestSpan(request, reply.statusCode),
      },
      "request",
    );
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "canon-reason",
        description:
          "Evidence-grounded answers you can audit, as a service: runs, their files, verification, replay and saved specs. Errors are application/problem+json with a stable `type` per error code (urn:canon-reason:problem:CODE); docs/errors.md in the repository and the package lists every code, its status and what to do.",
        version: PRODUCER.version,
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // Errors come from one handler, not from each route: documented once, on every operation.
    transformObject: (document) =>
      "openapiObject" in document
        ? (withProblems(document.openapiObject as OpenApiDocument) as typeof document.openapiObject)
        : document.swaggerObject,
  });
  const ctx: ServiceContext = {
    artifactsRoot: options.artifactsRoot,
    corpusRoots: options.corpusRoots,
    registry: options.registry,
    modelBaseUrl: options.modelBaseUrl,
    retrieval: new RetrievalCache(options.retrievalCacheSize ?? DEFAULT_RETRIEVAL_CACHE, {
      maxBuilds: options.maxIndexBuilds ?? DEFAULT_MAX_INDEX_BUILDS,
      policy: new IndexPolicy(options.indexPolicy),
      offThread: true,
    }),
    queue: options.queue,
  };
  await app.register(healthRoutes(ctx));
  await app.register(runRoutes(ctx));
  await app.register(itemRoutes(ctx));
  // Uploads a previous process was killed receiving (item 4): their pid is gone, so they go now.
  try {
    mkdirSync(uploadsRoot(options.artifactsRoot), { recursive: true, mode: 0o700 });
    sweepUploadDebris(options.artifactsRoot);
  } catch {
    // Best effort, as every sweep: never a reason not to start.
  }
  await app.register(corpusRoutes(ctx, options.uploadLimit ?? DEFAULT_UPLOAD_LIMIT, options.maxUploads));
  await app.register(metricsRoutes(metrics));
  app.withTypeProvider<ZodTypeProvider>().get(
    "/openapi.json",
    {
      schema: {
        tags: ["service"],
        summary: "this document",
        security: [],
        response: { 200: z.record(z.string(), z.unknown()) },
      },
    },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
  await app.ready();
  return app;
}
