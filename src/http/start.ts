/**
 * Starts the service for `canon-reason serve`: prepares the artifacts root, opens the registry
 * (SQLite, reconciling its run index with runs/; or a shared PostgreSQL one), listens, and closes gracefully on SIGTERM/SIGINT:
 * no new requests, in-flight ones finish (a run is published by one rename, or not at all),
 * then the database is closed.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { SqliteRegistry } from "../app/embedded-registry.js";
import { checkServiceToken, openServerWarning } from "../app/ops/bearer-token.js";
import type { Registry } from "../app/registry.js";
import { openSharedRegistry } from "../app/registry.js";
import type { IndexParams } from "../app/run/run-spec.js";
import { errnoInWords, prepareArtifactsDir } from "../app/store/artifacts.js";
import { stopOffThreadWork } from "../app/verify/off-thread.js";
import { InputError } from "../core/errors.js";
import { isBaseUrl } from "../core/models/spec.js";
import { buildServer } from "./server.js";

export interface StartOptions {
  host: string;
  port: number;
  artifactsRoot: string;
  corpusRoots: string[];
  token?: string | undefined;
  rateLimit: { max: number; windowMs: number };
  bodyLimit: number;
  uploadLimit: number;
  maxUploads?: number | undefined;
  maxIndexBuilds?: number | undefined;
  indexQuota?: number | undefined;
  indexParams?: ReadonlyArray<Partial<IndexParams>> | undefined;
  modelBaseUrl?: string | undefined;
  /** A postgres:// URL: the shared registry; none: the embedded SQLite one. */
  registryUrl?: string | undefined;
  /** A redis:// URL: `Prefer: respond-async` runs go to workers through it (needs a shared registry). */
  queueUrl?: string | undefined;
}

export async function startService(options: StartOptions): Promise<void> {
  const corpusRoots = options.corpusRoots.map((root) => {
    const full = resolve(root);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new InputError("E_USAGE", "not a folder", { file: full, field: "--corpus-root" });
    return full;
  });
  checkServiceToken(options.token);
  // Warned once listening: a server that fails to start has nothing open to warn about.
  const openWarning = openServerWarning(options.host, options.token);
  if (options.modelBaseUrl !== undefined && !isBaseUrl(options.modelBaseUrl))
    throw new InputError("E_USAGE", "must be an http:// or https:// URL without a query or fragment", {
      field: "--model-base-url",
    });
  if (options.queueUrl !== undefined && options.registryUrl === undefined)
    throw new InputError(
      "E_USAGE",
      "--queue needs a shared registry (--registry or CANON_REASON_DATABASE_URL)",
      {
        field: "--queue",
      },
    );
  const queueModule = options.queueUrl === undefined ? undefined : await import("../queue/queue.js");
  const connection =
    options.queueUrl === undefined
      ? undefined
      : (await import("../queue/connection.js")).parseQueueUrl(options.queueUrl);
  prepareArtifactsDir(options.artifactsRoot);
  const shared =
    options.registryUrl === undefined ? undefined : await openSharedRegistry(options.registryUrl);
  const registry: Registry = shared ?? new SqliteRegistry(options.artifactsRoot);
  // Not waited for: with Redis away the service starts, async submissions get 503, sync runs work.
  const jobs =
    queueModule === undefined || connection === undefined ? undefined : new queueModule.JobQueue(connection);
  const queue = jobs === undefined || shared === undefined ? undefined : { jobs, registry: shared };
  const app = await buildServer({
    artifactsRoot: options.artifactsRoot,
    corpusRoots,
    registry,
    queue,
    token: options.token,
    rateLimit: options.rateLimit,
    bodyLimit: options.bodyLimit,
    uploadLimit: options.uploadLimit,
    ...(options.maxUploads === undefined ? {} : { maxUploads: options.maxUploads }),
    ...(options.maxIndexBuilds === undefined ? {} : { maxIndexBuilds: options.maxIndexBuilds }),
    indexPolicy: {
      ...(options.indexQuota === undefined ? {} : { quota: options.indexQuota }),
      ...(options.indexParams === undefined ? {} : { allow: options.indexParams }),
    },
    modelBaseUrl: options.modelBaseUrl,
    logger: { level: "info" },
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    // Verifications running in worker threads are stopped, not waited for.
    void stopOffThreadWork();
    app
      .close()
      .then(() => jobs?.close())
      .then(() => registry.close())
      .then(
        () => {
          process.exitCode = 0;
        },
        (error: unknown) => {
          app.log.error({ err: error }, "shutdown failed");
          process.exitCode = 3;
        },
      );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  let url: string;
  try {
    url = await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await jobs?.close();
    await registry.close();
    throw listenError(error, options);
  }
  app.log.info({ url, artifacts: options.artifactsRoot, corpus_roots: corpusRoots }, "listening");
  if (openWarning !== null) {
    process.stderr.write(`${openWarning}\n`);
    app.log.warn({ host: options.host, authentication: "none" }, openWarning);
  }
}

/** Why the address could not be bound, as bad input naming the flag: an unknown or foreign host, a taken or privileged port. */
function listenError(error: unknown, options: { host: string; port: number }): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const onHost = code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EADDRNOTAVAIL";
  const onPort = code === "EADDRINUSE" || code === "EACCES";
  if (!onHost && !onPort) return error;
  return new InputError(
    "E_USAGE",
    `cannot listen on ${options.host}:${options.port} (${errnoInWords(error)})`,
    { field: onHost ? "--host" : "--port" },
    error,
  );
}
