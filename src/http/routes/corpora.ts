/**
 * `POST /v1/corpora`: upload a corpus as a JSONL body (application/x-ndjson); it is read with
 * the same reader and limits as a corpus file, snapshotted into the store, and named by its
 * snapshot hash, which `spec.constraints.corpus` can then give as `sha256:<hash>`. The JSONL
 * parser is registered inside this plugin only: every other route stays JSON-only.
 *
 * Uploads are streamed to disk, never held in memory (issue 21, item 4): into a staging folder
 * `uploads/.tmp-upload-<pid>-<rand>/` inside the artifacts root, cut off at the upload limit
 * on the bytes actually read (413), at most `maxUploads` at once (503 with Retry-After beyond
 * that), and removed when the request ends however it ends. A server killed mid-upload leaves
 * the folder behind; the next start sweeps it (src/io/store/debris.ts: its pid is not alive).
 */
import { createWriteStream, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import * as z from "zod";
import { snapshotUpload, uploadStagingDir } from "../../app/store/corpus.js";
import { CanonError } from "../../core/errors.js";
import { requireUtf8Charset } from "../body.js";
import type { ServiceContext } from "../context.js";
import { HttpError, scrubText } from "../problem.js";
import { CorpusResponse } from "../schemas.js";

export const JSONL_TYPES = ["application/x-ndjson", "application/jsonl"];
/** How an upload is named in errors: never the staging folder's absolute path (item 9). */
export const UPLOAD_NAME = "upload.jsonl";
export const DEFAULT_MAX_UPLOADS = 2;

interface Staged {
  dir: string;
  file: string;
  bytes: number;
}

export const corpusRoutes =
  (ctx: ServiceContext, uploadLimit: number, maxUploads = DEFAULT_MAX_UPLOADS): FastifyPluginAsync =>
  async (rawApp) => {
    let active = 0;
    /** Per request: release its upload slot and remove its staging folder, once. */
    const cleanups = new WeakMap<FastifyRequest, () => void>();
    const cleanUp = (request: FastifyRequest) => {
      cleanups.get(request)?.();
      cleanups.delete(request);
    };
    rawApp.addHook("onResponse", async (request) => cleanUp(request));
    rawApp.addHook("onRequestAbort", async (request) => cleanUp(request));

    rawApp.addContentTypeParser(JSONL_TYPES, (request, payload, done) => {
      void (async (): Promise<Staged> => {
        requireUtf8Charset(request);
        const declared = Number(request.headers["content-length"]);
        if (Number.isFinite(declared) && declared > uploadLimit)
          throw new HttpError(413, "E_HTTP_BODY_TOO_LARGE", `the upload is larger than ${uploadLimit} bytes`);
        if (active >= maxUploads)
          throw new HttpError(503, "E_HTTP_BUSY", `${maxUploads} uploads are already being received`, {
            retry_after: 1,
          });
        active++;
        const dir = uploadStagingDir(ctx.artifactsRoot);
        let released = false;
        cleanups.set(request, () => {
          if (released) return;
          released = true;
          active--;
          rmSync(dir, { recursive: true, force: true });
        });
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = join(dir, UPLOAD_NAME);
        let bytes = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _encoding, next) {
            bytes += chunk.length;
            if (bytes > uploadLimit)
              next(
                new HttpError(413, "E_HTTP_BODY_TOO_LARGE", `the upload is larger than ${uploadLimit} bytes`),
              );
            else next(null, chunk);
          },
        });
        await pipeline(payload, limit, createWriteStream(file, { flags: "wx", mode: 0o600 }));
        return { dir, file, bytes };
      })().then(
        (staged) => done(null, staged),
        (error: unknown) => {
          cleanUp(request);
          done(error instanceof Error ? error : new Error(String(error)), undefined);
        },
      );
    });
    const app = rawApp.withTypeProvider<ZodTypeProvider>();
    app.post(
      "/v1/corpora",
      {
        schema: {
          tags: ["corpora"],
          summary:
            "upload a JSONL corpus (doc_id or _id, text, title?, source?); returns its snapshot hash. Streamed to disk, at most --upload-limit bytes, a few at once (503 beyond)",
          consumes: JSONL_TYPES,
          body: z
            .unknown()
            .describe("JSON lines: one document per line, {doc_id|_id, text, title?, source?}"),
          response: { 201: CorpusResponse },
        },
      },
      async (request, reply) => {
        const staged = request.body as Staged | undefined;
        if (staged === undefined || typeof staged !== "object" || typeof staged.file !== "string")
          throw new HttpError(415, "E_HTTP_MEDIA_TYPE", `send the corpus as ${JSONL_TYPES.join(" or ")}`);
        try {
          return reply.code(201).send(await snapshotUpload(ctx.artifactsRoot, staged.file));
        } catch (error) {
          // The reader names the staged file: the client knows it as its upload (item 9).
          if (error instanceof CanonError) {
            const roots = [{ abs: staged.dir, shown: "" }];
            throw new CanonError(error.code, scrubText(error.message, roots), {
              exitCode: error.exitCode,
              where: { ...error.where, ...(error.where.file === undefined ? {} : { file: UPLOAD_NAME }) },
              cause: error,
            });
          }
          throw error;
        } finally {
          cleanUp(request);
        }
      },
    );
  };
