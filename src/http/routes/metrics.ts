/**
 * `GET /metrics`: the service's Prometheus metrics (text format 0.0.4). Not a public path: with
 * a token set (CANON_REASON_TOKEN), a scrape carries it as a bearer token (Prometheus'
 * `authorization` setting), since run counts and failure codes describe the service's use.
 */
import type { FastifyPluginAsync } from "fastify";
import { METRICS_CONTENT_TYPE, type RunMetrics } from "../../app/ops/prometheus-metrics.js";

export const metricsRoutes =
  (metrics: RunMetrics): FastifyPluginAsync =>
  async (app) => {
    app.get(
      "/metrics",
      {
        schema: {
          tags: ["service"],
          summary:
            "Prometheus metrics: runs by outcome, failures by code, run durations, queue depth (with --queue)",
          produces: ["text/plain"],
        },
      },
      async (_request, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metrics.text()),
    );
  };
