/**
 * `GET /health` (liveness: the process is up and its event loop answers; it touches nothing
 * else, so a slow database never gets a live process restarted) and `GET /ready` (readiness:
 * the registry answers a query and, with `--queue`, Redis answers a ping, each within a bound;
 * 503 otherwise). A load balancer polls `/ready` to route traffic; an orchestrator's liveness
 * probe polls `/health` (issue 21, item 6).
 */
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { PRODUCER } from "../../version.js";
import type { ServiceContext } from "../context.js";
import { HealthResponse, ReadyResponse } from "../schemas.js";

/** How long /ready waits for each dependency before calling it down. */
export const READY_TIMEOUT_MS = 2000;

async function probe(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([fn(), timeout]);
    return { ok: true };
  } catch (error) {
    // The error's class and message only: no connection string or host reaches a client.
    const code = (error as { code?: unknown }).code;
    return { ok: false, error: typeof code === "string" ? code : "unavailable" };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (rawApp) => {
    const app = rawApp.withTypeProvider<ZodTypeProvider>();
    app.get(
      "/health",
      {
        schema: {
          tags: ["service"],
          summary: "liveness: the process answers (never checks the registry or the queue; see /ready)",
          security: [],
          response: { 200: HealthResponse },
        },
      },
      async () => ({
        status: "ok" as const,
        version: PRODUCER.version,
        retrieval_cache: ctx.retrieval.stats(),
      }),
    );
    app.get(
      "/ready",
      {
        schema: {
          tags: ["service"],
          summary:
            "readiness: the registry answers and, with --queue, the queue does; 503 when one does not (poll this from a load balancer)",
          security: [],
          response: { 200: ReadyResponse, 503: ReadyResponse },
        },
      },
      async (_request, reply) => {
        const registry = await probe(() => ctx.registry.listRuns({ limit: 1 }));
        const queue =
          ctx.queue === undefined
            ? null
            : await probe(() =>
                (ctx.queue as NonNullable<typeof ctx.queue>).jobs.queue.getJobCounts("waiting"),
              );
        const ready = registry.ok && (queue === null || queue.ok);
        return reply.code(ready ? 200 : 503).send({
          status: ready ? ("ready" as const) : ("unavailable" as const),
          checks: { registry, ...(queue === null ? {} : { queue }) },
        });
      },
    );
  };
