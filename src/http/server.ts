/**
 * The HTTP service (docs/design.md §8) as a Fastify app factory: pure wiring, no listen. Routes are
 * small plugins, one per resource; zod schemas validate every request and generate the
 * OpenAPI 3.1 document; one error handler turns every error into problem+json; guards run
 * before any handler.
 */
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
import { z } from "zod";
import { RunMetrics } from "../app/metrics.js";
import { RetrievalCache } from "../app/retrieval-cache.js";
import { PRODUCER } from "../version.js";
import type { ServiceContext } from "./context.js";
import { installGuards } from "./guards.js";
import { frameworkProblem, installProblemHandler } from "./problem.js";
import { corpusRoutes } from "./routes/corpora.js";
import { healthRoutes } from "./routes/health.js";
import { itemRoutes } from "./routes/items.js";
import { metricsRoutes } from "./routes/metrics.js";
import { runRoutes } from "./routes/runs.js";
import { ProblemSchema } from "./schemas.js";
import { endRequestSpan, installRequestSpans } from "./telemetry.js";

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
  logger?: FastifyServerOptions["logger"];
}

export const DEFAULT_RETRIEVAL_CACHE = 8;
export const DEFAULT_UPLOAD_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_BODY_LIMIT = 256 * 1024;
export const DEFAULT_RATE_LIMIT = { max: 600, windowMs: 60_000 };
const PUBLIC_PATHS = new Set(["/health", "/openapi.json"]);

type OpenApiDocument = {
  components?: { schemas?: Record<string, unknown> };
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
};

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
          { ...op, responses: { ...op.responses, "4XX": problem, "5XX": problem } },
        ]),
      ),
    ]),
  );
  return { ...document, components: { ...document.components, schemas }, paths };
}

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
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON bodies only: every other media type gets 415.
  app.removeContentTypeParser(["text/plain"]);
  installProblemHandler(app);
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
    retrieval: new RetrievalCache(options.retrievalCacheSize ?? DEFAULT_RETRIEVAL_CACHE),
    queue: options.queue,
  };
  await app.register(healthRoutes(ctx));
  await app.register(runRoutes(ctx));
  await app.register(itemRoutes(ctx));
  await app.register(corpusRoutes(ctx, options.uploadLimit ?? DEFAULT_UPLOAD_LIMIT));
  await app.register(metricsRoutes(metrics));
  app.withTypeProvider<ZodTypeProvider>().get(
    "/openapi.json",
    {
      schema: {
        tags: ["service"],
        summary: "this document",
        response: { 200: z.record(z.string(), z.unknown()) },
      },
    },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
  await app.ready();
  return app;
}
