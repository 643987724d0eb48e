/** `GET /health`: the process is up and answering. */
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { PRODUCER } from "../../version.js";
import type { ServiceContext } from "../context.js";
import { HealthResponse } from "../schemas.js";

export const healthRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    app
      .withTypeProvider<ZodTypeProvider>()
      .get(
        "/health",
        { schema: { tags: ["service"], summary: "liveness", response: { 200: HealthResponse } } },
        async () => ({
          status: "ok" as const,
          version: PRODUCER.version,
          retrieval_cache: ctx.retrieval.stats(),
        }),
      );
  };
