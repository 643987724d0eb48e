/**
 * `POST /v1/corpora`: upload a corpus as a JSONL body (application/x-ndjson); it is read with
 * the same reader and limits as a corpus file, snapshotted into the store, and named by its
 * snapshot hash, which `spec.constraints.corpus` can then give as `sha256:<hash>`. The JSONL
 * parser is registered inside this plugin only: every other route stays JSON-only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { DEFAULT_LIMITS } from "../../io/corpus-reader.js";
import { snapshotCorpus } from "../../io/retrieval-backend.js";
import { DiskStore } from "../../io/store.js";
import type { ServiceContext } from "../context.js";
import { HttpError } from "../problem.js";
import { CorpusResponse } from "../schemas.js";

export const JSONL_TYPES = ["application/x-ndjson", "application/jsonl"];

export const corpusRoutes =
  (ctx: ServiceContext, uploadLimit: number): FastifyPluginAsync =>
  async (rawApp) => {
    rawApp.addContentTypeParser(
      JSONL_TYPES,
      { parseAs: "buffer", bodyLimit: uploadLimit },
      (_req, body, done) => done(null, body),
    );
    const app = rawApp.withTypeProvider<ZodTypeProvider>();
    app.post(
      "/v1/corpora",
      {
        schema: {
          tags: ["corpora"],
          summary: "upload a JSONL corpus (doc_id or _id, text, title?, source?); returns its snapshot hash",
          consumes: JSONL_TYPES,
          response: { 201: CorpusResponse },
        },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body))
          throw new HttpError(415, "E_HTTP_MEDIA_TYPE", `send the corpus as ${JSONL_TYPES.join(" or ")}`);
        // The reader takes a path; the upload lives in a private temporary folder only while read.
        const dir = mkdtempSync(join(tmpdir(), "canon-upload-"));
        try {
          const file = join(dir, "corpus.jsonl");
          writeFileSync(file, request.body);
          const snapshot = await snapshotCorpus(new DiskStore(ctx.artifactsRoot), file, DEFAULT_LIMITS);
          return reply.code(201).send({
            corpus: `sha256:${snapshot.hash}`,
            documents: snapshot.documents?.length ?? 0,
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  };
