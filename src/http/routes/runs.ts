/**
 * Runs: create (through the same runJob the CLI uses), list, read their files through the one
 * run reader, verify and replay. The server computes every id: a client-supplied one is never
 * trusted, and the same spec posted any number of times, at once or not, maps to one run.
 */
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { pinForQueue, runJob, runSummary } from "../../app/run/run-job.js";
import { DEFAULT_PRESET } from "../../app/run/run-spec.js";
import { runPageOffThread, verifyOffThread } from "../../app/verify/off-thread.js";
import { replayRun } from "../../app/verify/replay.js";
import { type OpenedRun, RUN_FILES, signatureState } from "../../app/verify/verify.js";
import { CanonError } from "../../core/errors.js";
import type { ProblemSpec } from "../../core/models/spec.js";
import { openPublishedRun, publishedRunDir, type ServiceContext } from "../context.js";
import { resolveCorpus } from "../corpus.js";
import { HttpError } from "../problem.js";
import { noteRun } from "../request-telemetry.js";
import {
  CreateRunBody,
  CreateRunHeaders,
  CreateRunResponse,
  EvidenceParams,
  JobAccepted,
  JobParams,
  JobResponse,
  PageQuery,
  ReplayBody,
  ReplayResponse,
  RunListResponse,
  RunParams,
  RunResponse,
  VerifyBody,
  VerifyResponse,
} from "../schemas.js";

/** The bytes of one file of a published run; a run without it is damaged (409), not missing. */
function fileOf(run: OpenedRun, path: string): Uint8Array {
  const bytes = run.files.get(path);
  if (bytes === undefined)
    throw new CanonError("E_NOT_A_RUN", `the run has no readable ${path}: verify it`, { exitCode: 1 });
  return bytes;
}

export const runRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (rawApp) => {
    const app = rawApp.withTypeProvider<ZodTypeProvider>();
    const tags = ["runs"];

    app.post(
      "/v1/runs",
      {
        schema: {
          tags,
          summary:
            "answer a spec (or a saved item) and write a verified run; with `Prefer: respond-async` and a queue, 202 and a job to poll",
          body: CreateRunBody,
          headers: CreateRunHeaders,
          response: { 200: CreateRunResponse, 201: CreateRunResponse, 202: JobAccepted },
        },
      },
      async (request, reply) => {
        const body = request.body;
        let spec: ProblemSpec;
        let item: { item_id: string | null; item_version: number | null } = {
          item_id: null,
          item_version: null,
        };
        if (body.item_id !== undefined) {
          const saved = await ctx.registry.getItem(body.item_id, body.item_version);
          if (saved === null)
            throw new HttpError(
              404,
              "E_ITEM_NOT_FOUND",
              `no item ${body.item_id}${body.item_version === undefined ? "" : ` version ${body.item_version}`}`,
            );
          spec = saved.spec;
          item = { item_id: saved.id, item_version: saved.version };
        } else {
          spec = body.spec as ProblemSpec;
        }
        const preset = body.preset ?? DEFAULT_PRESET;
        // The operator names the model endpoint (serve --model-base-url), never a request.
        if (spec.constraints.reasoner === "llm" && ctx.modelBaseUrl !== undefined)
          spec = { ...spec, constraints: { ...spec.constraints, base_url: ctx.modelBaseUrl } };
        // RFC 7240: a preference the server cannot honour (no queue is configured) is ignored.
        // An llm run goes to the queue without the endpoint's credentials (JobQueue.submit
        // removes them): workers call their own --model-base-url, which must be this one.
        const async =
          ctx.queue !== undefined && /(^|[,;\s])respond-async($|[,;\s])/i.test(request.headers.prefer ?? "");
        // A corpus path is confined to the corpus roots before anything is read (http/corpus.ts).
        const corpus = spec.constraints.corpus;
        if (corpus !== undefined)
          spec = {
            ...spec,
            constraints: {
              ...spec.constraints,
              corpus: resolveCorpus(corpus, ctx.corpusRoots, ctx.artifactsRoot),
            },
          };
        // Warm requests reuse the parsed snapshot and index of the service's cache.
        const source = ctx.retrieval.source(ctx.artifactsRoot);
        if (async && ctx.queue !== undefined) {
          // Workers read the snapshot from the shared registry: it is stored there before the job exists.
          const queued = await pinForQueue(spec, preset, source);
          if (queued.snapshot !== null) await ctx.queue.registry.putObject(queued.snapshot);
          const jobId = await ctx.queue.jobs.submit({
            kind: "run",
            spec: queued.spec,
            preset,
            seed: body.seed ?? 0,
            ...item,
          });
          const statusUrl = `/v1/jobs/${jobId}`;
          return reply
            .code(202)
            .header("location", statusUrl)
            .header("preference-applied", "respond-async")
            .send({ job_id: jobId, status_url: statusUrl, state: "queued" });
        }
        const result = await runJob({
          spec,
          preset,
          seed: body.seed ?? 0,
          artifactsRoot: ctx.artifactsRoot,
          source,
        });
        noteRun(request, result.runId, result.answer.status);
        // Indexed only once published: the index never names a run that is not on disk.
        await ctx.registry.addRun(
          { run_id: result.runId, ...item },
          { runDir: result.runDir, storeRoot: ctx.artifactsRoot },
        );
        const { run_id, ...summary } = runSummary(result);
        return reply.code(result.created ? 201 : 200).send({ run_id, created: result.created, ...summary });
      },
    );

    app.get(
      "/v1/jobs/:id",
      {
        schema: {
          tags,
          summary: "the state of a queued run (`Prefer: respond-async`); a failed job carries its reason",
          params: JobParams,
          response: { 200: JobResponse },
        },
      },
      async (request) => {
        if (ctx.queue === undefined)
          throw new HttpError(404, "E_HTTP_NOT_FOUND", "this service has no queue (serve --queue)");
        const { answered } = await import("../../queue/connection.js");
        const queue = ctx.queue.jobs.queue;
        const { job, state } = await answered(
          (async () => {
            const found = await queue.getJob(request.params.id);
            return { job: found, state: found === undefined ? "unknown" : await found.getState() };
          })(),
        );
        if (job === undefined) throw new HttpError(404, "E_HTTP_NOT_FOUND", `no job ${request.params.id}`);
        const value = job.returnvalue as { run_id?: unknown } | null | undefined;
        return {
          job_id: request.params.id,
          state,
          attempts: job.attemptsMade,
          run_id: state === "completed" && typeof value?.run_id === "string" ? value.run_id : null,
          failed_reason: state === "failed" ? (job.failedReason ?? null) : null,
        };
      },
    );

    app.get(
      "/v1/runs",
      {
        schema: {
          tags,
          summary: "list runs, newest first",
          querystring: PageQuery,
          response: { 200: RunListResponse },
        },
      },
      async (request) => {
        const page = await ctx.registry.listRuns(request.query);
        return { runs: page.entries, next_cursor: page.next_cursor };
      },
    );

    app.get(
      "/v1/runs/:id",
      { schema: { tags, summary: "a run's summary", params: RunParams, response: { 200: RunResponse } } },
      async (request) => {
        const { run } = await openPublishedRun(ctx, request.params.id);
        const entry = await ctx.registry.getRun(request.params.id);
        const items = await ctx.registry.runItems(request.params.id);
        const { answer, report, manifest } = run.view;
        return {
          run_id: request.params.id,
          registered_at: entry?.registered_at ?? null,
          item_id: entry?.item_id ?? null,
          item_version: entry?.item_version ?? null,
          items,
          question: answer?.question ?? null,
          status: answer?.status ?? null,
          answer: answer?.answer ?? null,
          recorded_verdict: report?.verdict ?? null,
          root_digest: manifest?.root_digest ?? null,
          files: [...run.files.keys()].sort(),
        };
      },
    );

    const raw = (path: string, type: string, summary: string) =>
      app.get(
        `/v1/runs/:id/${path}`,
        { schema: { tags, summary, params: RunParams } },
        async (request, reply) => {
          const { run } = await openPublishedRun(ctx, request.params.id);
          const file =
            path === "trace" ? RUN_FILES.trace : path === "manifest" ? RUN_FILES.manifest : RUN_FILES.answer;
          return reply.type(type).send(Buffer.from(fileOf(run, file)));
        },
      );
    raw("trace", "application/x-ndjson", "the trace, byte for byte (JSON lines)");
    raw("manifest", "application/json", "manifest.json, byte for byte");
    raw("answer", "application/json", "answer.json, byte for byte");

    app.get(
      "/v1/runs/:id/report",
      {
        schema: {
          tags,
          summary:
            "the run's self-contained HTML page (checks run now; the same page as `canon-reason report`)",
          params: RunParams,
        },
      },
      async (request, reply) => {
        // Read, verified and rendered in a worker thread: a slow or hostile run never stalls the service.
        const { runDir, storeRoot } = await publishedRunDir(ctx, request.params.id);
        const page = await runPageOffThread(runDir, storeRoot);
        return reply
          .type("text/html; charset=utf-8")
          .header("content-security-policy", page.csp)
          .header("x-content-type-options", "nosniff")
          .header("referrer-policy", "no-referrer")
          .send(page.html);
      },
    );

    app.get(
      "/v1/runs/:id/evidence/:sha256",
      { schema: { tags, summary: "the exact evidence bytes named by their sha256", params: EvidenceParams } },
      async (request, reply) => {
        const { run } = await openPublishedRun(ctx, request.params.id);
        const bytes = run.files.get(`evidence/${request.params.sha256}.txt`);
        if (bytes === undefined)
          throw new HttpError(404, "E_HTTP_NOT_FOUND", `the run holds no evidence ${request.params.sha256}`);
        return reply
          .type("text/plain; charset=utf-8")
          .header("x-content-type-options", "nosniff")
          .send(Buffer.from(bytes));
      },
    );

    app.post(
      "/v1/runs/:id/verify",
      {
        schema: {
          tags,
          summary: "verify the run independently; a failed check is a verdict (passed: false)",
          params: RunParams,
          body: VerifyBody,
          response: { 200: VerifyResponse },
        },
      },
      async (request) => {
        // Read and verified in a worker thread: a slow or hostile run never stalls the service.
        const { runDir, storeRoot } = await publishedRunDir(ctx, request.params.id);
        const report = await verifyOffThread(runDir, {
          policy: request.body?.policy ?? "audit",
          storeRoot,
          ...(request.body?.require_signature === true ? { requireSignature: true } : {}),
        });
        return {
          passed: report.verdict === "pass",
          signature: signatureState(report.checks),
          report: report as unknown as Record<string, unknown>,
        };
      },
    );

    app.post(
      "/v1/runs/:id/replay",
      {
        schema: {
          tags,
          summary:
            "replay the run (frozen, or live against the pinned snapshot) and show the first divergence",
          params: RunParams,
          body: ReplayBody,
          response: { 200: ReplayResponse },
        },
      },
      async (request) => {
        const { run, storeRoot } = await openPublishedRun(ctx, request.params.id);
        const result = await replayRun(run, storeRoot, request.body?.live === true ? "live" : "frozen");
        return { ...result, divergence: result.divergence as unknown as Record<string, unknown> | null };
      },
    );
  };
