/** A real service on a loopback ephemeral port, for tests that go over HTTP. */
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildServer, type ServerOptions } from "../../src/http/server.js";
import { prepareArtifactsDir } from "../../src/io/store/artifacts.js";
import type { Registry } from "../../src/registry/run-registry.js";
import { SqliteRegistry } from "../../src/registry/sqlite.js";
import { REPO } from "./cli.js";
import { checkResponse } from "./contract.js";
import { tempDir } from "./tmp.js";

export const DEMO_ROOT = join(REPO, "demo");

export interface TestServer {
  url: string;
  app: FastifyInstance;
  root: string;
  registry: Registry;
  close(): Promise<void>;
}

/** A service over a fresh artifacts root; its registry is the embedded one unless `options.registry` is given. */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const root = options.artifactsRoot ?? tempDir("canon-http-");
  prepareArtifactsDir(root);
  const registry = options.registry ?? new SqliteRegistry(root);
  const app = await buildServer({ corpusRoots: [DEMO_ROOT], ...options, artifactsRoot: root, registry });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    app,
    root,
    registry,
    close: async () => {
      await app.close();
      await registry.close();
    },
  };
}

export const demoSpec = (question = "What causes tides?", constraints: Record<string, unknown> = {}) => ({
  version: "1",
  description: question,
  constraints: { corpus: "corpus", ...constraints },
});

export interface Reply {
  status: number;
  type: string;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies by shape
  json: () => any;
  headers: Headers;
}

/** One request; a body object is sent as JSON, a string or bytes as they are. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  // Every response a test receives is held to the served OpenAPI document (issue 21, item 8).
  if (path !== "/openapi.json" || response.status !== 200)
    await checkResponse(method, path, response.status, response.headers.get("content-type") ?? "", text);
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text,
    json: () => JSON.parse(text),
    headers: response.headers,
  };
}

/** A POST whose body is sent chunked, with no Content-Length, `chunks` pieces of `size` bytes. */
export function postChunked(
  base: string,
  path: string,
  chunks: number,
  size: number,
  contentType = "application/json",
): Promise<{ status: number; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { "content-type": contentType },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    const piece = Buffer.alloc(size, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}
